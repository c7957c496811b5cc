// Package native serves the emulator's own JSON API under /v1/: functions
// (deploy, get, list, remove), invocations, events (list, get, terminate),
// statistics, stored logs, and the live log stream as Server-Sent Events
// whose ids are resumable cursors. It is what adapters/local speaks; its wire
// types are package nativeapi. With credentials set, every route but the
// health check takes them as HTTP Basic authentication.
//
// Every route is a handler returning an answer or an error (handler.go); the
// live log stream is the one route that writes as it goes.
package native
