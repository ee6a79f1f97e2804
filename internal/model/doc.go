// Package model holds Baton's domain types: flows, runs, states, logs and
// events, with JSON shapes that follow the Prefect 3 REST contract.
//
// The types are shared by the API, the orchestration core and the store so
// that one declaration defines the wire format, the validation rules (through
// the typed decoders of ID and Time) and the OpenAPI document.
package model
