package spec

import (
	"fmt"
	"path/filepath"
	"testing"
)

func TestSmoke(t *testing.T) {
	files, _ := filepath.Glob("../../shared/corpus/serverless-yml/*.yml")
	for _, f := range files {
		l, err := Load(f, Options{})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		fmt.Printf("== %s\n%+v\n", f, *l.Service)
		for _, w := range l.Warnings {
			fmt.Println("  W", w)
		}
		j, _ := l.JSON()
		_ = j
	}
}
