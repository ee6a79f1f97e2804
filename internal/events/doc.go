// Package events is Baton's event subsystem: the in-process bus that fans
// events out to subscribers, the in-memory evaluation of Prefect's
// EventFilter, the batched write path (Ingest) that persists events and
// turns client task-run events into task runs (the "task-run recorder"), and
// the two websockets of the Prefect contract, /api/events/in and
// /api/events/out.
//
// Task runs of the Prefect 3 client exist only as events, so the write path
// is built for throughput (one store round trip per batch of events from all
// connections) and for durable acknowledgements: a websocket pong is written
// only after every event read before the ping has been committed, because the
// client treats the pong as "everything before it is delivered".
package events
