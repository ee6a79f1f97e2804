package worker

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// A deployment whose command runs a Prefect flow script ("python flow.py")
// would, run as a plain command, create a second, unlinked flow run: the
// script calls the flow, and a flow called directly always makes a new run.
// Prefect's workers avoid this by handing the run id to the engine
// (PREFECT__FLOW_RUN_ID) and letting the engine load and run the flow as
// that run. Baton's worker does the same, as Prefect's runner does: it
// recognises the command, finds the script's flow function with Python's own
// parser, and starts `python -m prefect.engine` with PREFECT__FLOW_RUN_ID and
// PREFECT__FLOW_ENTRYPOINT=script.py:function instead (every Prefect 3
// release's engine loads the flow from that variable), so the deployment's
// run is the flow's run and the engine reports its states and logs.

// pythonName matches an interpreter's file name: python, python3, python3.12.
var pythonName = regexp.MustCompile(`^python(\d+(\.\d+)*)?$`)

// pythonOptsWithValue are the interpreter options that take a separate
// argument.
var pythonOptsWithValue = map[string]bool{"-X": true, "-W": true, "-Q": true}

// scriptCommand splits a command of the form `python [options] script.py`
// into the interpreter with its options and the script. Anything else (shell
// syntax, a module (-m), arguments after the script) is not a flow script.
func scriptCommand(command string) (interp []string, script string, ok bool) {
	if strings.ContainsAny(command, ";|&$`<>()'\"\\*?{}[]~\n") {
		return nil, "", false
	}
	f := strings.Fields(command)
	if len(f) < 2 || !pythonName.MatchString(filepath.Base(f[0])) {
		return nil, "", false
	}
	i := 1
	for i < len(f) && strings.HasPrefix(f[i], "-") {
		switch {
		case f[i] == "-m" || f[i] == "-c" || f[i] == "-" || strings.HasPrefix(f[i], "--"):
			return nil, "", false
		case pythonOptsWithValue[f[i]]:
			i += 2
		default:
			i++
		}
	}
	if i != len(f)-1 || !strings.HasSuffix(f[i], ".py") {
		return nil, "", false
	}
	return f[:i], f[i], true
}

// findFlowPy prints the name of the flow function in the script argv[1]:
// the one whose flow name (the decorator's name=, else the function name
// with - for _) or function name is argv[2], else the only one. It prints
// nothing when there is none, when the script does not parse, or when the
// interpreter has no Prefect with an engine module, so the worker then runs
// the command as written. It imports neither the script nor Prefect.
const findFlowPy = `
import ast, importlib.util, os, sys
try:
    spec = importlib.util.find_spec("prefect")
    if not os.path.exists(os.path.join(list(spec.submodule_search_locations)[0], "engine.py")):
        sys.exit(0)
    with open(sys.argv[1], encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), sys.argv[1])
except Exception:
    sys.exit(0)

def decorator_name(d):
    if isinstance(d, ast.Call):
        d = d.func
    if isinstance(d, ast.Attribute):
        return d.attr
    if isinstance(d, ast.Name):
        return d.id
    return ""

found = []
for node in tree.body:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        continue
    for d in node.decorator_list:
        if decorator_name(d) != "flow":
            continue
        name = node.name.replace("_", "-")
        if isinstance(d, ast.Call):
            for kw in d.keywords:
                if kw.arg == "name" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    name = kw.value.value
        found.append((node.name, name))
want = sys.argv[2]
match = [fn for fn, name in found if want and want in (fn, name)]
if len(match) == 1:
    print(match[0])
elif len(found) == 1:
    print(found[0][0])
`

// flowScriptCommand returns the engine command that runs job's script as
// the run and the entrypoint to hand it (nil when the command is not a
// Prefect flow script). flowName is
// the deployment's flow, which picks the function when the script has
// several; entrypoint ("file.py:function"), when the deployment has one
// for the same file, names the function instead.
func flowScriptCommand(ctx context.Context, job jobConfig, flowName, entrypoint string) ([]string, string) {
	interp, script, ok := scriptCommand(job.Command)
	if !ok {
		return nil, ""
	}
	want := flowName
	if file, f, ok := strings.Cut(entrypoint, ":"); ok && filepath.Clean(file) == filepath.Clean(script) && f != "" {
		want = f
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, interp[0], "-c", findFlowPy, script, want)
	cmd.Dir = job.WorkingDir
	cmd.Env = job.environ()
	out, err := cmd.Output()
	if err != nil {
		return nil, ""
	}
	fn := strings.TrimSpace(string(out))
	if fn == "" || strings.ContainsAny(fn, " \n") {
		return nil, ""
	}
	argv := append([]string{}, interp...)
	return append(argv, "-m", "prefect.engine"), script + ":" + fn
}
