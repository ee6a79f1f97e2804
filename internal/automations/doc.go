// Package automations is Baton's automation engine, without HTTP: the
// automations users define (a trigger and the actions to take when it
// fires, in Prefect 3's shapes and with its validation rules), the
// evaluation of their triggers on the live event stream, and the execution
// of their actions.
//
// Three parts share one Service:
//
//   - definitions (service.go): create, replace, enable/disable, delete,
//     filter; each write emits prefect.automation.created|updated|deleted
//     in the same store transaction, and wakes the engine;
//   - the engine (engine.go, evaluator.go): it reads every workspace's
//     events in commit order from the store, evaluates event triggers
//     (match, match_related, after, expect, for_each, threshold, within,
//     reactive and proactive), compound and sequence triggers exactly as
//     Prefect's triggers service does, and metric triggers (flow-run
//     duration, lateness and success rate) as Prefect Cloud does. Each
//     step's trigger state, the actions its firings queue, the
//     prefect.automation.triggered|resolved events and the engine's
//     position in the stream are committed in one transaction, so a restart
//     resumes exactly where the last commit left off: nothing is forgotten
//     and nothing fires twice;
//   - the executor (executor.go, actions.go, notify.go): it carries out
//     queued actions at least once, idempotently per invocation id (a
//     run-deployment's flow run carries it as its idempotency key; a state
//     change already made is not made again), retries a failing action with
//     exponential backoff and records the outcome with
//     prefect.automation.action.triggered and .executed or .failed events.
//     Run writes go through internal/runs, the one owner of run writes.
//
// The engine keeps its state in the store so that, on PostgreSQL, it can
// run as one leader among replicas.
package automations
