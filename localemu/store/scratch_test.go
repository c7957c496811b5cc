package store

import (
	"fmt"
	"testing"
	"time"
)

func TestScratchLatency(t *testing.T) {
	for _, o := range []Options{{CheckpointInterval: 100 * time.Millisecond}, {CheckpointInterval: 250 * time.Millisecond}, {CheckpointInterval: time.Second}, {CheckpointInterval: 100 * time.Millisecond}, {CheckpointInterval: 250 * time.Millisecond}, {CheckpointInterval: time.Second}} {
		s, _ := OpenWith(t.TempDir(), o)
		var lat []time.Duration
		for i := range 3000 {
			t0 := time.Now()
			s.InsertEvent(ctx, &Event{RequestID: fmt.Sprint(i), Function: "f", Payload: benchPayload})
			lat = append(lat, time.Since(t0))
			time.Sleep(time.Until(t0.Add(time.Millisecond)))
		}
		s.Close()
		t.Logf("%+v p50 %v p99 %v p999 %v max %v", o.CheckpointInterval, percentile(lat, 50), percentile(lat, 99), percentile(lat, 999/10), lat[len(lat)-1])
	}
}
