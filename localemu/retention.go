package localemu

import (
	"context"
	"errors"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// Retention: finished events do not stay forever. The clouds expire what
// they track — SCF keeps an async event's status for 3 days after it ends,
// a durable Lambda function keeps its executions for its
// RetentionPeriodInDays — and an emulator left running for weeks (a team's
// CI emulator, `dev` on a laptop) must not only grow. In the background, in
// small batches through the store's writer (accepts interleave), the engine
// deletes finished events past their retention with their attempts and
// logs, keeps the store within Options.MaxStoreSize by deleting the oldest
// finished events first, and gives the space back to the file system. An
// event that has not ended is never deleted, however old.
const (
	// DefaultRetention is how long finished events are kept by default.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultPruneInterval is how often retention and the budget apply.
	DefaultPruneInterval = time.Minute
	// budgetInterval is how often at most a disk budget is checked.
	budgetInterval = 10 * time.Second

	// scfRetention: "事件状态保留 3 * 24 小时（从事件完成开始计时）" — SCF's
	// async event status is kept 3 × 24 hours from the event's end (SCF
	// async execution docs; the SCF front answers GetAsyncEventStatus so).
	scfRetention = 72 * time.Hour
	// durableRetentionDays is Lambda's default RetentionPeriodInDays
	// (DurableConfig in the Lambda API reference: 1–90, default 14).
	durableRetentionDays = 14

	// pruneBatch is the most events one prune step deletes.
	pruneBatch = 200
	// budgetLow: a store over its budget is brought down to this fraction
	// of it, so that pruning does not run again at every tick.
	budgetLow = 0.9
)

// retentionOf is how long fn's finished events are kept: the emulator's
// retention, or the function's own rule when that is shorter; 0 = forever
// (a negative Retention keeps everything).
func (e *Engine) retentionOf(fn string) time.Duration {
	keep := e.opts.Retention
	if keep < 0 {
		return 0 // never: the functions' own rules are off too
	}
	if cfg, ok := e.DeployedConfig(fn); ok {
		var own time.Duration
		switch {
		case cfg.Async.Durable != nil:
			days := cfg.Async.Durable.RetentionPeriodInDays
			if days <= 0 {
				days = durableRetentionDays
			}
			own = time.Duration(days) * 24 * time.Hour
		case cfg.Provider == cloud.Tencent:
			own = scfRetention
		}
		if own > 0 && (keep == 0 || own < keep) {
			keep = own
		}
	}
	return keep
}

// pruneLoop applies retention and the budget every PruneInterval until
// Close.
func (e *Engine) pruneLoop(ctx context.Context) {
	defer close(e.pruneDone)
	t := time.NewTicker(e.opts.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.prune(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, store.ErrClosed) {
			e.log.Error("pruning the store", "err", err)
		}
	}
}

// prune deletes what retention and the budget say must go, and reclaims
// the space.
func (e *Engine) prune(ctx context.Context) error {
	var deleted int
	fns, err := e.store.EventFunctions(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	longest := time.Duration(0)
	for _, fn := range fns {
		keep := e.retentionOf(fn)
		if keep == 0 {
			continue
		}
		longest = max(longest, keep)
		for {
			due, err := e.store.ExpiredEvents(ctx, fn, now.Add(-keep), pruneBatch)
			if err != nil {
				return err
			}
			n, err := e.store.PruneEvents(ctx, ids(due))
			if err != nil {
				return err
			}
			deleted += n
			if len(due) < pruneBatch {
				break
			}
		}
	}
	if e.opts.Retention > 0 {
		// Output outside any event goes with the emulator's retention.
		if _, err := e.store.PruneLogs(ctx, now.Add(-max(e.opts.Retention, longest))); err != nil {
			return err
		}
	}
	if deleted > 0 {
		e.log.Info("retention: deleted finished events", "events", deleted)
	}
	if _, err := e.store.Reclaim(ctx); err != nil {
		return err
	}
	return e.keepBudget(ctx)
}

// keepBudget deletes the oldest finished events while the store is over
// Options.MaxStoreSize, down to budgetLow of it, and says so in the
// emulator's log.
func (e *Engine) keepBudget(ctx context.Context) error {
	budget := e.opts.MaxStoreSize
	if budget <= 0 {
		return nil
	}
	size, err := e.store.Size(ctx)
	if err != nil || size <= budget {
		return err
	}
	before, low := size, int64(float64(budget)*budgetLow)
	var deleted int
	var oldest time.Time
	for size > low {
		// As many of the oldest as should bring the size down, by the
		// average event's share of it (what is freed shows only after each
		// step's Reclaim).
		events, err := e.store.EventCount(ctx)
		if err != nil {
			return err
		}
		n := pruneBatch
		if events > 0 {
			avg := max(size/int64(events), 1)
			n = int(min(max((size-low+avg-1)/avg, 1), pruneBatch))
		}
		due, err := e.store.OldestFinished(ctx, n)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			e.log.Warn("the store is over its budget and holds no finished event to delete: running and queued events are never deleted",
				"size", humanize.IBytes(uint64(size)), "budget", humanize.IBytes(uint64(budget)))
			break
		}
		if oldest.IsZero() {
			oldest = due[0].EndedAt
		}
		pruned, err := e.store.PruneEvents(ctx, ids(due))
		if err != nil {
			return err
		}
		deleted += pruned
		if _, err := e.store.Reclaim(ctx); err != nil {
			return err
		}
		if size, err = e.store.Size(ctx); err != nil {
			return err
		}
	}
	if deleted > 0 {
		e.log.Warn("the store was over its budget: deleted the oldest finished events",
			"events", deleted, "oldestEnded", oldest.Format(time.RFC3339), "size", humanize.IBytes(uint64(before)),
			"now", humanize.IBytes(uint64(size)), "budget", humanize.IBytes(uint64(budget)))
	}
	return nil
}

func ids(fs []store.Finished) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.RequestID
	}
	return out
}
