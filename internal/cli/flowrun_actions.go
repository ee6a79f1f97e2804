package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/worker"
)

// flowRunRetryCmd is `baton flow-run retry`: a finished deployment run is
// scheduled again, as `prefect flow-run retry` does (a forced Scheduled
// state), and a worker of its pool runs it.
func (a *app) flowRunRetryCmd() *cobra.Command {
	var watch bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "retry ID",
		Short: "Run a finished deployment run again (a worker picks it up)",
		Long: `Schedule the flow run ID again, as 'prefect flow-run retry' does: the run must have ended
(Completed, Failed, Cancelled or Crashed) and belong to a deployment, whose worker then runs it
with the same parameters. A run without a deployment is retried by running its flow again.`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseRunID(args[0])
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var run model.FlowRun
			err = c.Do(cmd.Context(), "GET", "/flow_runs/"+id.String(), nil, &run)
			if worker.IsStatus(err, 404) {
				return fmt.Errorf("no flow run has the id %s (baton flow-run ls)", id)
			}
			if err != nil {
				return err
			}
			if run.StateType == nil || !run.StateType.Terminal() {
				state := "no state"
				if run.State != nil {
					state = run.State.Name
				}
				return fmt.Errorf("flow run %s is %s; only a run that ended (Completed, Failed, Cancelled, Crashed) can be retried", run.Name, state)
			}
			if run.DeploymentID == nil {
				return fmt.Errorf("flow run %s has no deployment, so no worker can run it again; run its flow again instead", run.Name)
			}
			var res model.OrchestrationResult
			state := map[string]any{"type": "SCHEDULED", "name": "Scheduled", "message": "Retried via CLI",
				"state_details": map[string]any{"scheduled_time": time.Now().UTC().Format(time.RFC3339Nano)}}
			body := map[string]any{"state": state, "force": true}
			if err := c.Do(cmd.Context(), "POST", "/flow_runs/"+id.String()+"/set_state", body, &res); err != nil {
				return err
			}
			if res.Status != model.StatusAccept {
				return fmt.Errorf("the run was not scheduled again: %s", res.Details.Reason)
			}
			fmt.Fprintf(a.env.Stdout, "Flow run %s (%s) is scheduled again; a worker of its pool will pick it up.\nView it at %s\n",
				run.Name, run.ID, a.link("/runs/flow-run/"+run.ID.String()))
			if !watch {
				return nil
			}
			return a.watchRun(cmd.Context(), c, id, timeout)
		},
	}
	cmd.Flags().BoolVar(&watch, "watch", false, "wait until the run ends; exit 1 unless it Completed")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --watch, give up after this long (e.g. 10m)")
	return cmd
}

// flowRunDeleteCmd is `baton flow-run delete`: the run, its task runs,
// states and logs go.
func (a *app) flowRunDeleteCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a flow run with its task runs, states and logs",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseRunID(args[0])
			if err != nil {
				return err
			}
			if err := a.confirm(yes, fmt.Sprintf("Delete flow run %s with its task runs and logs?", id)); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			err = c.Do(cmd.Context(), "DELETE", "/flow_runs/"+id.String(), nil, nil)
			if worker.IsStatus(err, 404) {
				return fmt.Errorf("no flow run has the id %s (baton flow-run ls)", id)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Deleted flow run %s.\n", id)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
