// Package events is Baton's event subsystem: the in-process bus that fans
// events out to subscribers, the in-memory evaluation of Prefect's
// EventFilter, the batched write path (Ingest) that persists events and
// turns client task-run events into task runs (the "task-run recorder",
// written through the runs layer). It knows nothing of HTTP: the
// websockets that feed it and read from it (/api/events/in and
// /api/events/out) are in internal/api/eventsocket.
//
// Task runs of the Prefect 3 client exist only as events, so the write path
// is built for throughput (one store round trip per batch of events from all
// connections) and for durable acknowledgements: Accept returns only once
// its events are committed, so the socket can acknowledge them.
package events
