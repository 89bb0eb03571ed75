package ghapp

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
)

// requestTimeout is go-githubapp's client middleware bounding each request, body included, to
// d. It replaces http.Client.Timeout (githubapp.WithClientTimeout): with a timeout and a
// transport that is not *http.Transport, net/http watches each request with a goroutine that
// ends only when the response body is closed or the timeout fires, and go-github's
// CheckResponse swaps the body of every error answer (404, 422, …) for a copy, so the original
// is read to its end but never closed. Each such answer then kept a goroutine, its request and
// its job's context alive for the whole timeout: 9,000 goroutines and 40 MB under load. Here
// the request's context is cancelled as soon as its body has been read to the end, has failed,
// or is closed, whichever comes first.
func requestTimeout(d time.Duration) githubapp.ClientMiddleware {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			resp, err := next.RoundTrip(r.WithContext(ctx))
			if err != nil {
				cancel()
				return nil, err
			}
			resp.Body = &cancelAtEnd{ReadCloser: resp.Body, cancel: cancel}
			return resp, nil
		})
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// cancelAtEnd cancels its request's context once the body is read to the end (or fails) or is
// closed.
type cancelAtEnd struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelAtEnd) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.cancel()
	}
	return n, err
}

func (b *cancelAtEnd) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
