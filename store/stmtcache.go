package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
)

// stmtCacheSize bounds the prepared statements kept per connection; River and the bot use a few
// dozen distinct queries.
const stmtCacheSize = 128

// maxCachedParams is the most parameters a cached statement takes. A statement with more is a
// multi-row insert (the inbox's, one per group commit size): each size is a query of its own
// whose compiled program grows with its rows, so caching them held about 10 MB of SQLite's
// memory per connection after a load for queries a later commit rarely repeats. Such a
// statement is prepared for its one use; parsing it costs well under a µs per row.
const maxCachedParams = 64

// cachingConnector gives every connection a cache of prepared statements. database/sql prepares
// a query on each QueryContext/ExecContext the driver serves directly; for SQLite, parsing
// River's insert and fetch statements was ~15% of the CPU of webhook ingest. modernc's prepared
// statements keep their compiled program, so reusing them skips the parser.
type cachingConnector struct {
	driver.Connector
}

// Connect implements driver.Connector.
func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{inner: conn, byQuery: map[string]*list.Element{}, lru: list.New()}, nil
}

// cachingConn wraps one connection. database/sql uses a connection from one goroutine at a
// time, so the cache needs no lock.
type cachingConn struct {
	inner   driver.Conn
	byQuery map[string]*list.Element
	lru     *list.List // of *cachedStmt, most recently used first
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	// inUse is set while rows of this statement are open: a statement has one cursor, so a
	// second use meanwhile gets a statement of its own.
	inUse bool
}

var (
	_ driver.Conn               = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.inner.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.inner.Prepare(query)
}

// Begin is required by driver.Conn; database/sql calls BeginTx.
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.inner.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.inner.Begin() //lint:ignore SA1019 fallback for drivers without BeginTx

}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// Close closes the cached statements, then the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.byQuery)
	return errors.Join(append(errs, c.inner.Close())...)
}

// acquire returns a prepared statement for query, which takes params parameters, and the
// function that gives it back.
func (c *cachingConn) acquire(ctx context.Context, query string, params int) (driver.Stmt, func(), error) {
	if e, ok := c.byQuery[query]; ok {
		cs := e.Value.(*cachedStmt)
		if !cs.inUse {
			c.lru.MoveToFront(e)
			cs.inUse = true
			return cs.stmt, func() { cs.inUse = false }, nil
		}
		st, err := c.PrepareContext(ctx, query)
		if err != nil {
			return nil, nil, err
		}
		return st, func() { _ = st.Close() }, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if params > maxCachedParams {
		return st, func() { _ = st.Close() }, nil
	}
	cs := &cachedStmt{query: query, stmt: st, inUse: true}
	c.byQuery[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		oldest := c.lru.Back()
		old := oldest.Value.(*cachedStmt)
		if old.inUse {
			break
		}
		c.lru.Remove(oldest)
		delete(c.byQuery, old.query)
		_ = old.stmt.Close()
	}
	return st, func() { cs.inUse = false }, nil
}

// ExecContext implements driver.ExecerContext with a cached statement.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, release, err := c.acquire(ctx, query, len(args))
	if err != nil {
		return c.execDirect(ctx, query, args)
	}
	defer release()
	se, ok := st.(driver.StmtExecContext)
	if !ok {
		return c.execDirect(ctx, query, args)
	}
	return se.ExecContext(ctx, args)
}

func (c *cachingConn) execDirect(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.inner.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// QueryContext implements driver.QueryerContext with a cached statement, held until the rows
// are closed.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, release, err := c.acquire(ctx, query, len(args))
	if err != nil {
		if q, ok := c.inner.(driver.QueryerContext); ok {
			return q.QueryContext(ctx, query, args)
		}
		return nil, driver.ErrSkip
	}
	sq, ok := st.(driver.StmtQueryContext)
	if !ok {
		release()
		return nil, driver.ErrSkip
	}
	rows, err := sq.QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingRows{Rows: rows, release: release}, nil
}

// releasingRows gives the statement back when closed and passes column metadata through.
type releasingRows struct {
	driver.Rows
	release func()
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

func (r *releasingRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *releasingRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *releasingRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

// closeStatements closes the cached statements that are not in use, keeping the connection.
func (c *cachingConn) closeStatements() error {
	var errs []error
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		if cs := e.Value.(*cachedStmt); !cs.inUse {
			errs = append(errs, cs.stmt.Close())
			c.lru.Remove(e)
			delete(c.byQuery, cs.query)
		}
		e = next
	}
	return errors.Join(errs...)
}
