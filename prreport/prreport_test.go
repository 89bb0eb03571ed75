package prreport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// fakeGitHub answers the few endpoints a Reporter calls, on the shared fake GitHub (ghapptest),
// and keeps what it was sent.
type fakeGitHub struct {
	mu          sync.Mutex
	creates     int
	annotations []int // annotations per check-run create or update, in order
	comments    map[int64]string
}

// sent is the part of a request body the fake reads.
type sent struct {
	Body   string `json:"body"`
	Output struct {
		Annotations []json.RawMessage `json:"annotations"`
	} `json:"output"`
}

func (f *fakeGitHub) routes(srv *ghapptest.Server) {
	handle := func(pattern string, h func(w http.ResponseWriter, in sent)) {
		srv.Handle(pattern, func(w http.ResponseWriter, _ *http.Request, body []byte) {
			var in sent
			_ = json.Unmarshal(body, &in)
			f.mu.Lock()
			defer f.mu.Unlock()
			h(w, in)
		})
	}
	handle("POST /repos/o/r/check-runs", func(w http.ResponseWriter, in sent) {
		f.creates++
		f.annotations = append(f.annotations, len(in.Output.Annotations))
		_, _ = fmt.Fprint(w, `{"id":11}`)
	})
	handle("PATCH /repos/o/r/check-runs/11", func(w http.ResponseWriter, in sent) {
		f.annotations = append(f.annotations, len(in.Output.Annotations))
		_, _ = fmt.Fprint(w, `{"id":11}`)
	})
	handle("GET /repos/o/r/commits/{sha}/check-runs", func(w http.ResponseWriter, _ sent) {
		_, _ = fmt.Fprint(w, `{"total_count":0,"check_runs":[]}`)
	})
	handle("POST /repos/o/r/issues/7/comments", func(w http.ResponseWriter, in sent) {
		f.comments[21] = in.Body
		_, _ = fmt.Fprint(w, `{"id":21}`)
	})
	handle("PATCH /repos/o/r/issues/comments/21", func(w http.ResponseWriter, in sent) {
		f.comments[21] = in.Body
		_, _ = fmt.Fprint(w, `{"id":21}`)
	})
}

func newReporter(t *testing.T) (prreport.Reporter, *fakeGitHub) {
	t.Helper()
	fake := &fakeGitHub{comments: map[int64]string{}}
	srv := ghapptest.New(t)
	fake.routes(srv)
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	return prreport.Reporter{Client: srv.Client(ghapptest.ClientOptions{}), Records: st, Owner: "o", Repo: "r"}, fake
}

func TestUpsertCheckRunPagesAnnotations(t *testing.T) {
	t.Parallel()
	r, fake := newReporter(t)
	anns := make([]*github.CheckRunAnnotation, 120)
	for i := range anns {
		anns[i] = &github.CheckRunAnnotation{Path: github.String("a.go"), StartLine: github.Int(i + 1), EndLine: github.Int(i + 1),
			AnnotationLevel: github.String("failure"), Message: github.String("x")}
	}
	cr := prreport.CheckRun{Name: "Autonomous CI / test", HeadSHA: "abc", ExternalID: "x:1", Key: "check-run:o/r:1",
		Title: "t", Summary: "s", Annotations: anns}
	id, err := r.UpsertCheckRun(context.Background(), cr)
	require.NoError(t, err)
	require.Equal(t, int64(11), id)
	require.Equal(t, []int{50, 50, 20}, fake.annotations, "50 a request, the rest appended by updates")
	// A retry with the saved id updates, never creates a second.
	cr.ExistingID, cr.Annotations = id, anns[:3]
	_, err = r.UpsertCheckRun(context.Background(), cr)
	require.NoError(t, err)
	require.Equal(t, 1, fake.creates)
	require.Equal(t, []int{50, 50, 20, 3}, fake.annotations)
}

func TestUpdateCommentNeverRegresses(t *testing.T) {
	t.Parallel()
	r, fake := newReporter(t)
	ctx := context.Background()
	newer := prreport.Section{Key: "workflow:ci", RunID: 2, Attempt: 1, Headline: "ci failed", Body: "### run two\n"}
	id, err := r.UpdateComment(ctx, 7, newer, false)
	require.NoError(t, err)
	require.Equal(t, int64(21), id)
	older := newer
	older.RunID, older.Body = 1, "### run one\n"
	_, err = r.UpdateComment(ctx, 7, older, false)
	require.NoError(t, err)
	require.Contains(t, fake.comments[21], "run two")
	require.NotContains(t, fake.comments[21], "run one", "a late analysis of an older run must not replace a newer one")
	require.True(t, strings.HasPrefix(fake.comments[21], prreport.Marker))
	// onlyIfReported writes nothing to a pull request without the section.
	id, err = r.UpdateComment(ctx, 8, prreport.Section{Key: "workflow:other", RunID: 3}, true)
	require.NoError(t, err)
	require.Zero(t, id)
}
