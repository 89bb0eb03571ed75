package workflows

import (
	"context"
	"time"
)

// DiscardedSincePaged is DiscardedSince reading page jobs at a time (tests of the paging).
func (e *Engine) DiscardedSincePaged(ctx context.Context, since time.Time, page int) (int, error) {
	return e.discardedSince(ctx, since, page)
}
