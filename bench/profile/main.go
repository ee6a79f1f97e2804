// Command profile runs the Baton server exactly as `baton` does (same CLI
// entry point, same arguments) with a CPU profile, and optionally a heap
// profile, written when it is stopped with SIGINT or SIGTERM. It lets the
// benchmark harness open the profile of a workload where Baton loses without
// adding profiling endpoints to the server:
//
//	go build -o bin/baton-profile ./bench/profile
//	BATON_HOME=... bin/baton-profile -cpu cpu.prof server start --port P &
//	bin/bench-load lifecycle -url http://127.0.0.1:P/api -d 20s; kill -INT %1
//	go tool pprof -top bin/baton-profile cpu.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/batonhq/baton/internal/cli"
)

func main() {
	cpu := flag.String("cpu", "cpu.prof", "write the CPU profile here")
	heap := flag.String("heap", "", "write a heap profile here at exit (optional)")
	flag.Parse()
	code, err := run(*cpu, *heap, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(cpuPath, heapPath string, args []string) (int, error) {
	f, err := os.Create(cpuPath)
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", cpuPath, err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return 0, fmt.Errorf("start CPU profile: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.DefaultEnv(), args)
	stop()
	pprof.StopCPUProfile()
	if heapPath == "" {
		return code, nil
	}
	h, err := os.Create(heapPath)
	if err != nil {
		return code, fmt.Errorf("create %s: %w", heapPath, err)
	}
	defer h.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(h); err != nil {
		return code, fmt.Errorf("write heap profile: %w", err)
	}
	return code, nil
}
