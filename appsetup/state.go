package appsetup

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// stateCookie holds the random state that ties GitHub's callback to the browser that started
// the flow (CSRF protection).
const stateCookie = "autonomous_setup_state"

// stateTTL matches the lifetime of a manifest code on GitHub (one hour).
const stateTTL = time.Hour

// newState returns 32 random bytes, hex encoded.
func newState() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("failed to generate state: %w", err)
	}
	return hex.EncodeToString(buf), nil
}

// validState reports whether s has the shape newState produces.
func validState(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}

// cookieState returns the state stored in the request's cookie, or "" when absent or malformed.
func cookieState(r *http.Request) string {
	c, err := r.Cookie(stateCookie)
	if err != nil || !validState(c.Value) {
		return ""
	}
	return c.Value
}

// stateMatches compares the callback's state with the cookie in constant time.
func stateMatches(r *http.Request, state string) bool {
	stored := cookieState(r)
	return stored != "" && subtle.ConstantTimeCompare([]byte(stored), []byte(state)) == 1
}

// setStateCookie stores state in an HttpOnly, SameSite=Lax cookie (Secure on https), so it is
// sent with GitHub's top-level redirect to the callback but not readable by scripts.
func setStateCookie(w http.ResponseWriter, r *http.Request, state string) {
	scheme, _ := requestScheme(r)
	http.SetCookie(w, &http.Cookie{
		Name:     stateCookie,
		Value:    state,
		Path:     "/",
		MaxAge:   int(stateTTL / time.Second),
		HttpOnly: true,
		Secure:   scheme == "https",
		SameSite: http.SameSiteLaxMode,
	})
}

// clearStateCookie deletes the state cookie once the flow is complete.
func clearStateCookie(w http.ResponseWriter, r *http.Request) {
	scheme, _ := requestScheme(r)
	http.SetCookie(w, &http.Cookie{
		Name:     stateCookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   scheme == "https",
		SameSite: http.SameSiteLaxMode,
	})
}
