package cli

import (
	"encoding/json"
	"io"
)

// writeJSONOut prints one JSON document, indented, HTML left unescaped.
func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
