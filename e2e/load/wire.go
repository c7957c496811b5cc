package main

// The native API's wire types are package nativeapi's (the emulator's native
// front serves the same); what this program reads of the live log stream
// (GET /v1/logs/stream, Server-Sent Events) without decoding it is here: the
// comment the emulator sends once the subscription is in place, and the
// prefix of a line's event.
const (
	streamHello = ": asyncfn log stream"
	streamData  = "data: "
)
