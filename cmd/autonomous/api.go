package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/workflows"
)

// maxExecutionRequestBytes bounds the body of POST /api/executions.
const maxExecutionRequestBytes = 1 << 20

// executionRequest is the body of POST /api/executions: what `autonomous execute` takes.
type executionRequest struct {
	Kind   string         `json:"kind"`
	Repo   string         `json:"repo"`
	Params map[string]any `json:"params"`
}

// executionAccepted is the answer of POST /api/executions.
type executionAccepted struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	Repo string `json:"repo,omitempty"`
	// Duplicate is true when an identical execution was already waiting: its id is answered.
	Duplicate  bool   `json:"duplicate"`
	StatusURL  string `json:"status_url"`
	RiverUIURL string `json:"river_ui_url"`
	Warning    string `json:"warning,omitempty"`
}

// postExecution starts a workflow through the same engine and validation as `autonomous
// execute`: 202 with the execution's id, 400 with the reason for a bad kind, repository,
// parameters or body, 413 over 1 MiB, 415 unless the body is JSON, 503 while stopping.
func (a *App) postExecution(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Content-Type must be application/json"})
		return
	}
	if r.ContentLength > maxExecutionRequestBytes {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("the body is over %d bytes", maxExecutionRequestBytes)})
		return
	}
	req, err := decodeExecutionRequest(http.MaxBytesReader(w, r.Body, maxExecutionRequestBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("the body is over %d bytes", maxExecutionRequestBytes)})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	var target workflows.Repo
	if req.Repo != "" {
		if target, err = workflows.ParseRepo(req.Repo); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "repo must be owner/name: " + err.Error()})
			return
		}
	}
	ins, err := a.engine.Trigger(r.Context(), workflows.Kind(req.Kind), target, req.Params,
		workflows.By("api:"+strconv.FormatInt(time.Now().UnixNano(), 10)))
	var invalid *workflows.InvalidRequestError
	switch {
	case errors.As(err, &invalid):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": invalid.Error()})
		return
	case errors.Is(err, workflows.ErrStopped):
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the server is stopping: try again"})
		return
	case err != nil:
		zerolog.Ctx(r.Context()).Error().Err(err).Str("kind", req.Kind).Msg("Failed to start an execution")
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "failed to start the execution"})
		return
	}
	out := executionAccepted{
		ID: ins.ID, Kind: req.Kind, Repo: req.Repo, Duplicate: ins.Duplicate,
		StatusURL:  "/api/executions/" + strconv.FormatInt(ins.ID, 10),
		RiverUIURL: "/riverui/jobs/" + strconv.FormatInt(ins.ID, 10),
	}
	if spec, ok := workflows.SpecFor(workflows.Kind(req.Kind)); ok && spec.NeedsRepo && !a.cfg.HasAppCredentials() {
		out.Warning = "this server has no GitHub App credentials yet: the execution will fail until the app is registered"
	}
	zerolog.Ctx(r.Context()).Info().Int64("execution_id", ins.ID).Str("kind", req.Kind).Bool("duplicate", ins.Duplicate).
		Msg("Started an execution through the operator API")
	w.Header().Set("Location", out.StatusURL)
	writeJSON(w, http.StatusAccepted, out)
}

// decodeExecutionRequest reads exactly one JSON object with the known fields; numbers in params
// stay json.Number, as `execute --parameters` reads them.
func decodeExecutionRequest(body io.Reader) (executionRequest, error) {
	var req executionRequest
	dec := json.NewDecoder(body)
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, describeDecodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return req, err
		}
		return req, errors.New("the body must be one JSON object, with nothing after it")
	}
	if req.Kind == "" {
		return req, fmt.Errorf("kind is required, one of: %s", strings.Join(workflows.KindNames(), ", "))
	}
	return req, nil
}

// describeDecodeError says what is wrong with the body without echoing it.
func describeDecodeError(err error) error {
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.Is(err, io.EOF):
		return errors.New(`the body is empty: send {"kind": "...", "repo": "owner/name", "params": {...}}`)
	case errors.As(err, &typeErr) && typeErr.Field == "params":
		return errors.New("params must be a JSON object")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Errorf("%s must be a string", typeErr.Field)
	case errors.As(err, &typeErr):
		return errors.New(`the body must be a JSON object {"kind", "repo", "params"}`)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the body is not valid JSON: %w", err)
	}
	// An unknown field, among others: encoding/json names it.
	return fmt.Errorf("the body must be a JSON object with kind, repo and params: %w", err)
}
