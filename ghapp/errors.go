package ghapp

import (
	"errors"
	"net/http"

	"github.com/google/go-github/v62/github"
)

// StatusCode is the HTTP status of GitHub's error answer in err's chain (*github.ErrorResponse),
// or zero when there is none.
func StatusCode(err error) int {
	var resp *github.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil {
		return resp.Response.StatusCode
	}
	return 0
}

// HasStatus reports whether err is GitHub's error answer with the HTTP status code.
func HasStatus(err error, code int) bool { return err != nil && StatusCode(err) == code }

// IsNotFound reports whether err is GitHub's 404 answer.
func IsNotFound(err error) bool { return HasStatus(err, http.StatusNotFound) }
