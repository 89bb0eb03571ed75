package workflows

// InvalidRequestError is Trigger's answer to a request that cannot run as given: an unknown
// kind, a kind without a worker in this build (Err wraps ErrNoWorker), a missing repository,
// unknown or ill-typed parameters, or parameters the kind's builder refuses. Its message is the
// reason, written for the caller (the CLI prints it, the operator API answers 400 with it).
type InvalidRequestError struct{ Err error }

func (e *InvalidRequestError) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *InvalidRequestError) Unwrap() error { return e.Err }

// invalid wraps a validation error of Trigger.
func invalid(err error) error { return &InvalidRequestError{Err: err} }
