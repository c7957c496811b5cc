// Package artifact is the one packaging code shared by every provider adapter
// and the local emulator: Build turns a function's source tree into a zip the
// way the Serverless Framework v3 selects files (package.patterns), and
// Extract unpacks such a zip without ever writing outside its destination.
//
// Both ends of a deploy use it, so what runs on the emulator is byte for byte
// what would be uploaded to SCF or Lambda, and the zip's SHA-256 (Info.SHA256)
// tells an unchanged redeploy from a real one: Build is deterministic.
//
// Pattern semantics (see Match and DefaultExcludes): globs relative to the
// root, applied in order after the Framework's default excludes, "!" to
// exclude, later patterns overriding earlier ones; everything is included
// unless a pattern says otherwise; asyncfn's state directory (.asyncfn/, and
// any directory IsStateDir recognises as an emulator's state directory, such
// as a --state-dir inside the service) is never packaged.
package artifact
