package redelivery_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/recovery/redelivery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// base is the time of the fixtures' first delivery; the clock of the tests starts an hour later.
var base = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// delivery is one entry of GitHub's deliveries list (the documented fields the job reads).
type delivery struct {
	ID             int64   `json:"id"`
	GUID           string  `json:"guid"`
	DeliveredAt    string  `json:"delivered_at"`
	Redelivery     bool    `json:"redelivery"`
	Duration       float64 `json:"duration"`
	Status         string  `json:"status"`
	StatusCode     int     `json:"status_code"`
	Event          string  `json:"event"`
	Action         string  `json:"action,omitempty"`
	InstallationID int64   `json:"installation_id"`
	RepositoryID   int64   `json:"repository_id"`
}

// hooks is the app webhook's delivery log on the fake GitHub: listed newest first, pageSize a
// page with a cursor in the Link header; a redelivery adds a successful delivery of the GUID
// unless hideRedeliveries is set (GitHub has not listed it yet).
type hooks struct {
	srv *ghapptest.Server

	mu               sync.Mutex
	log              []delivery // oldest first
	nextID           int64
	pageSize         int
	hideRedeliveries bool
}

func newHooks(t *testing.T) *hooks {
	h := &hooks{srv: ghapptest.New(t), nextID: 1000, pageSize: 2}
	h.srv.HandleFunc("GET /app/hook/deliveries", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		start := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			var err error
			if start, err = strconv.Atoi(c); err != nil {
				ghapptest.JSON(w, http.StatusBadRequest, map[string]any{"message": "bad cursor"})
				return
			}
		}
		newestFirst := make([]delivery, 0, len(h.log))
		for i := len(h.log) - 1; i >= 0; i-- {
			newestFirst = append(newestFirst, h.log[i])
		}
		end := min(start+h.pageSize, len(newestFirst))
		if end < len(newestFirst) {
			w.Header().Set("Link", fmt.Sprintf(`<%s/app/hook/deliveries?per_page=%d&cursor=%d>; rel="next"`, h.srv.URL(), h.pageSize, end))
		}
		ghapptest.JSON(w, http.StatusOK, newestFirst[min(start, end):end])
	})
	h.srv.HandleFunc("POST /app/hook/deliveries/{id}/attempts", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		for _, d := range h.log {
			if d.ID != id {
				continue
			}
			if !h.hideRedeliveries {
				h.add(d.GUID, d.Event, 200, true, base.Add(time.Hour))
			}
			ghapptest.JSON(w, http.StatusAccepted, map[string]any{})
			return
		}
		ghapptest.NotFound(w)
	})
	return h
}

// add appends a delivery; the caller holds mu or is the test before any request.
func (h *hooks) add(guid, event string, code int, redelivered bool, at time.Time) int64 {
	h.nextID++
	status := "OK"
	if code == 0 {
		status = "timed out"
	} else if code >= 300 {
		status = "Invalid HTTP Response: " + strconv.Itoa(code)
	}
	h.log = append(h.log, delivery{ID: h.nextID, GUID: guid, DeliveredAt: at.Format(time.RFC3339), Redelivery: redelivered,
		Duration: 0.5, Status: status, StatusCode: code, Event: event, Action: "completed", InstallationID: 7, RepositoryID: 1296269})
	return h.nextID
}

func (h *hooks) redeliveries() []string { return h.srv.Calls("/attempts") }

type appClients struct{ c *github.Client }

func (a appClients) App() (*github.Client, error) { return a.c, nil }

// clock is the tests' adjustable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func newWorker(h *hooks, st *store.Store, c *clock) *redelivery.Worker {
	return redelivery.NewWorker(redelivery.Deps{Clients: appClients{h.srv.Client(ghapptest.ClientOptions{Timeout: 5 * time.Second})}, Ledger: st, Now: c.Now})
}

// The fixture: five GUIDs over three pages of two, oldest first.
func seed(h *hooks) (ids map[string]int64) {
	ids = map[string]int64{}
	ids["a-503"] = h.add("a-503", "workflow_run", 503, false, base)
	ids["b-ok"] = h.add("b-ok", "check_run", 200, false, base.Add(10*time.Minute))
	ids["c-timeout"] = h.add("c-timeout", "issue_comment", 0, false, base.Add(20*time.Minute))
	ids["d-502"] = h.add("d-502", "workflow_run", 502, false, base.Add(30*time.Minute))
	ids["e-400"] = h.add("e-400", "workflow_run", 400, false, base.Add(40*time.Minute))
	// d was redelivered by someone and went through.
	h.add("d-502", "workflow_run", 200, true, base.Add(50*time.Minute))
	return ids
}

func TestRedeliversEachFailedDeliveryOnce(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := newHooks(t)
			ids := seed(h)
			st := workflowstest.OpenStore(t, db.URL)
			c := &clock{now: base.Add(time.Hour)}

			res, err := newWorker(h, st, c).Run(ctx, redelivery.Args{})
			require.NoError(t, err)
			require.Equal(t, []string{"a-503", "c-timeout"}, res.Redelivered, "oldest first")
			require.Equal(t, []string{
				fmt.Sprintf("POST /app/hook/deliveries/%d/attempts", ids["a-503"]),
				fmt.Sprintf("POST /app/hook/deliveries/%d/attempts", ids["c-timeout"]),
			}, h.redeliveries())
			require.Equal(t, 3, res.Pages, "six deliveries, two a page")
			require.Equal(t, 6, res.Listed)
			require.Equal(t, 1, res.Succeeded, "d failed, then went through")
			require.Equal(t, 1, res.NotRetried, "a 400 is refused again")
			require.True(t, res.Complete)
			for _, guid := range []string{"a-503", "c-timeout"} {
				r, err := st.Redelivery(ctx, guid)
				require.NoError(t, err)
				require.Equal(t, store.RedeliverySent, r.State)
				require.Equal(t, ids[guid], r.DeliveryID)
			}
			r, err := st.Redelivery(ctx, "c-timeout")
			require.NoError(t, err)
			require.Equal(t, "issue_comment", r.Event)
			for _, guid := range []string{"b-ok", "d-502", "e-400"} {
				r, err := st.Redelivery(ctx, guid)
				require.NoError(t, err)
				require.Nil(t, r, guid)
			}

			// A second run (another process: a new worker over the same database) asks for nothing.
			c.add(10 * time.Minute)
			res, err = newWorker(h, st, c).Run(ctx, redelivery.Args{})
			require.NoError(t, err)
			require.Empty(t, res.Redelivered)
			require.Len(t, h.redeliveries(), 2)
			require.Equal(t, 3, res.Pages, "it reads back only to the last run's newest delivery (less 15 minutes)")
			require.Equal(t, 4, res.Listed, "the two redeliveries, d's and e")
		})
	}
}

// TestRecordedRedeliveryIsNeverRepeated: GitHub has not listed the redeliveries yet, so the list
// still shows the failures; the ledger alone keeps a restart from asking again.
func TestRecordedRedeliveryIsNeverRepeated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHooks(t)
	h.hideRedeliveries = true
	h.add("a", "workflow_run", 503, false, base)
	h.add("b", "workflow_run", 504, false, base.Add(time.Minute)) // both within the runs' overlap
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	c := &clock{now: base.Add(time.Hour)}
	res, err := newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.NoError(t, err)
	require.Len(t, res.Redelivered, 2)
	c.add(time.Hour)
	res, err = newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.NoError(t, err)
	require.Empty(t, res.Redelivered)
	require.Equal(t, 2, res.Already)
	require.Len(t, h.redeliveries(), 2)
}

func TestRejectedRedeliveryIsRecordedAndNotRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHooks(t)
	id := h.add("gone", "workflow_run", 503, false, base)
	h.srv.Fail(ghapptest.Fault{Method: http.MethodPost, Path: fmt.Sprintf("/app/hook/deliveries/%d/attempts", id),
		Status: http.StatusUnprocessableEntity, Body: `{"message":"Validation Failed","documentation_url":"https://docs.github.com/rest"}`})
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	c := &clock{now: base.Add(time.Hour)}
	res, err := newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.NoError(t, err, "a refusal is an outcome, not a failure of the run")
	require.Equal(t, []string{"gone"}, res.Rejected)
	require.Empty(t, res.Redelivered)
	r, err := st.Redelivery(ctx, "gone")
	require.NoError(t, err)
	require.Equal(t, store.RedeliveryRejected, r.State)
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Equal(t, "Validation Failed", r.Message)

	c.add(time.Hour)
	res, err = newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.NoError(t, err)
	require.Empty(t, res.Rejected)
	require.Len(t, h.redeliveries(), 1, "asked once")
}

// TestLostAnswerIsLookedUpBeforeAskingAgain: the redelivery request's answer is a 502; the next
// run waits while it may still show up, finds it listed, and does not ask again.
func TestLostAnswerIsLookedUpBeforeAskingAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHooks(t)
	id := h.add("lost", "workflow_run", 503, false, base)
	path := fmt.Sprintf("/app/hook/deliveries/%d/attempts", id)
	h.srv.Fail(ghapptest.Fault{Method: http.MethodPost, Path: path, Status: http.StatusBadGateway, Body: `{"message":"Server Error"}`, Times: 1})
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	c := &clock{now: base.Add(time.Hour)}
	_, err := newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.Error(t, err)
	require.Equal(t, 502, ghappStatus(err))
	r, err := st.Redelivery(ctx, "lost")
	require.NoError(t, err)
	require.Equal(t, store.RedeliverySending, r.State, "what happened is not known")

	// At once: the earlier request may still land.
	res, err := newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.NoError(t, err)
	require.Equal(t, 1, res.Waiting)
	require.Len(t, h.redeliveries(), 1)

	// GitHub did redeliver it: the list shows it, and the record is settled without a request.
	h.mu.Lock()
	h.add("lost", "workflow_run", 200, true, base.Add(time.Minute))
	h.mu.Unlock()
	c.add(2 * time.Minute)
	res, err = newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.NoError(t, err)
	require.Empty(t, res.Redelivered)
	require.Len(t, h.redeliveries(), 1)
	r, err = st.Redelivery(ctx, "lost")
	require.NoError(t, err)
	require.Equal(t, store.RedeliverySent, r.State)
}

// TestUnsettledRedeliveryIsAskedAgainAfterItSettled: the 502 really did nothing; once it could
// no longer land, the next run asks once more.
func TestUnsettledRedeliveryIsAskedAgainAfterItSettled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHooks(t)
	id := h.add("dropped", "workflow_run", 0, false, base)
	h.srv.Fail(ghapptest.Fault{Method: http.MethodPost, Path: fmt.Sprintf("/app/hook/deliveries/%d/attempts", id), Status: http.StatusBadGateway, Times: 1})
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	c := &clock{now: base.Add(time.Hour)}
	_, err := newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.Error(t, err)
	c.add(2 * time.Minute)
	res, err := newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.NoError(t, err)
	require.Equal(t, []string{"dropped"}, res.Redelivered)
	require.Len(t, h.redeliveries(), 2)
}

// TestRefusedRequestIsReleased: a 401 or a rate limit did nothing; the claim is dropped so the
// retry asks at once, and Work turns a rate limit into a snooze.
func TestRefusedRequestIsReleased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHooks(t)
	id := h.add("auth", "workflow_run", 503, false, base)
	h.srv.Fail(ghapptest.Fault{Method: http.MethodPost, Path: fmt.Sprintf("/app/hook/deliveries/%d/attempts", id),
		Status: http.StatusUnauthorized, Body: `{"message":"Bad credentials"}`, Times: 1})
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	c := &clock{now: base.Add(time.Hour)}
	_, err := newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.Equal(t, 401, ghappStatus(err))
	r, err := st.Redelivery(ctx, "auth")
	require.NoError(t, err)
	require.Nil(t, r)
	res, err := newWorker(h, st, c).Run(ctx, redelivery.Args{})
	require.NoError(t, err)
	require.Equal(t, []string{"auth"}, res.Redelivered)
}

func TestRateLimitedListSnoozes(t *testing.T) {
	t.Parallel()
	h := newHooks(t)
	seed(h)
	reset := time.Now().Add(90 * time.Second).Unix()
	h.srv.Fail(ghapptest.Fault{Method: http.MethodGet, Path: "/app/hook/deliveries", Status: http.StatusForbidden,
		Headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000", "X-RateLimit-Reset": strconv.FormatInt(reset, 10)},
		Body:    `{"message":"API rate limit exceeded"}`})
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	w := newWorker(h, st, &clock{now: base.Add(time.Hour)})
	err := w.Work(context.Background(), &river.Job[redelivery.Args]{JobRow: &rivertype.JobRow{}, Args: redelivery.Args{}})
	var snooze *rivertype.JobSnoozeError
	require.True(t, errors.As(err, &snooze), "%v", err)
	require.Greater(t, snooze.Duration, 30*time.Second)
	require.Empty(t, h.redeliveries())
}

func TestListFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		page   int // the page that fails
		ok     bool
	}{
		{name: "no webhook", status: http.StatusNotFound, ok: true},
		{name: "server error", status: http.StatusInternalServerError},
		{name: "second page fails", status: http.StatusBadGateway, page: 2},
		{name: "second page gone", status: http.StatusNotFound, page: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHooks(t)
			seed(h)
			f := ghapptest.Fault{Method: http.MethodGet, Path: "/app/hook/deliveries", Status: tc.status, Body: `{"message":"x"}`}
			if tc.page == 2 {
				f.Match = func(r ghapptest.Request) bool { return r.Query != "per_page=100" }
			}
			h.srv.Fail(f)
			st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
			res, err := newWorker(h, st, &clock{now: base.Add(time.Hour)}).Run(context.Background(), redelivery.Args{})
			require.Empty(t, h.redeliveries(), "nothing is redelivered from a partial list")
			if tc.ok {
				require.NoError(t, err)
				require.True(t, res.Complete)
				return
			}
			require.Equal(t, tc.status, ghappStatus(err))
			mark, err := st.RedeliveryScanMark(context.Background())
			require.NoError(t, err)
			require.True(t, mark.IsZero())
		})
	}
}

// TestLookbackBoundsTheList: deliveries older than the window are neither read past nor
// redelivered.
func TestLookbackBoundsTheList(t *testing.T) {
	t.Parallel()
	h := newHooks(t)
	h.add("old", "workflow_run", 503, false, base.Add(-30*time.Hour))
	h.add("old2", "workflow_run", 503, false, base.Add(-29*time.Hour))
	h.add("old3", "workflow_run", 503, false, base.Add(-28*time.Hour))
	h.add("new", "workflow_run", 503, false, base)
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	res, err := newWorker(h, st, &clock{now: base.Add(time.Hour)}).Run(context.Background(), redelivery.Args{LookbackHours: 24})
	require.NoError(t, err)
	require.Equal(t, []string{"new"}, res.Redelivered)
	require.Equal(t, 1, res.Pages)
	require.True(t, res.Complete)
}

func ghappStatus(err error) int {
	var resp *github.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil {
		return resp.Response.StatusCode
	}
	return 0
}
