package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Observer receives the Recorder's health figures, e.g. to export them as
// metrics. Methods are called from the Recorder's goroutines and must not
// block.
type Observer interface {
	// SetSpooled reports how many call records wait in the spool file.
	SetSpooled(n int)
	// DBError counts a failed database operation ("write_call", "replay").
	DBError(op string)
}

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	// SpoolPath is the local append-only file (JSON lines) where records go
	// when the queue is full or the database fails. Required. Rejected
	// records (ones the database refuses for good) go to SpoolPath+".rejected".
	SpoolPath string
	// QueueSize bounds the in-memory queue (default 1024).
	QueueSize int
	// RetryInterval is how often the spool is replayed while it is not
	// empty (default 5 s).
	RetryInterval time.Duration
	// WriteTimeout bounds one database write (default 10 s).
	WriteTimeout time.Duration
	Logger       *slog.Logger
	Observer     Observer // nil: none
}

// Defaults for RecorderOptions.
const (
	DefaultQueueSize     = 1024
	DefaultRetryInterval = 5 * time.Second
	DefaultWriteTimeout  = 10 * time.Second
)

// Recorder writes call records to the database asynchronously. Submit never
// blocks the call flow on the database: records go through a bounded queue
// to one writer goroutine; when the queue is full, or the database fails, a
// record is appended (and fsync'd) to the spool file instead, and the spool is
// replayed every RetryInterval until the database takes it. Writes are
// idempotent by call id (one transaction per call, ON CONFLICT DO NOTHING),
// so a record replayed twice — e.g. after a crash between a replay and the
// spool's truncation — is stored once. The spool is truncated (or compacted,
// keeping records appended meanwhile) only after a successful replay. Records
// left in the spool at Close are replayed by the next Recorder on that path.
type Recorder struct {
	db    *sqlx.DB
	opts  RecorderOptions
	log   *slog.Logger
	obs   Observer
	spool *spool

	queue chan *CallRecord
	mu    sync.Mutex // guards closed; held while sending on queue
	// closed is set by Close; Submit then writes to the spool directly.
	closed bool
	stop   chan struct{}
	done   chan struct{}
	// drainCtx is the ctx given to Close, read by the writer when it drains.
	drainCtx context.Context
}

// degraded reports whether the spool holds records (after a database failure
// or a full queue): new records then go to the spool too, behind them, until
// the next replay empties it.
func (r *Recorder) degraded() bool { return r.spool.count() > 0 }

// NewRecorder opens (creating if needed) the spool and starts the writer.
// Records left in the spool by an earlier run are replayed first.
func NewRecorder(db *sqlx.DB, opts RecorderOptions) (*Recorder, error) {
	if opts.SpoolPath == "" {
		return nil, errors.New("store: recorder: SpoolPath is required")
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = DefaultRetryInterval
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	log := opts.Logger
	if log == nil {
		log = discardLogger()
	}
	obs := opts.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	sp, err := openSpool(opts.SpoolPath)
	if err != nil {
		return nil, err
	}
	r := &Recorder{
		db: db, opts: opts, log: log.With("component", "recorder"), obs: obs, spool: sp,
		queue: make(chan *CallRecord, opts.QueueSize),
		stop:  make(chan struct{}), done: make(chan struct{}),
	}
	n := sp.count()
	obs.SetSpooled(n)
	if n > 0 {
		r.log.Info("spool holds call records from an earlier run", "records", n, "path", opts.SpoolPath)
	}
	go r.run()
	return r, nil
}

// Submit hands a finished call's record to the Recorder. It never waits for
// the database: if the queue is full the record is appended to the spool
// (a local write and fsync) instead. rec is copied.
func (r *Recorder) Submit(rec CallRecord) {
	if err := rec.Validate(); err != nil {
		r.log.Error("call record rejected", "call", rec.ID, "err", err)
		r.reject(&rec, err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		select {
		case r.queue <- &rec:
			return
		default:
			r.log.Warn("call record queue full; spooling", "call", rec.ID)
		}
	}
	r.toSpool(&rec)
}

// Spooled returns how many records wait in the spool.
func (r *Recorder) Spooled() int { return r.spool.count() }

// Close stops accepting records into the queue (later Submits go to the
// spool), writes what is queued, tries a last replay of the spool, and
// stops the writer. When ctx ends first, whatever is still queued is spooled
// — nothing is lost — and ctx's error is returned.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done
		return nil
	}
	r.closed = true
	r.drainCtx = ctx
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	if n := r.spool.count(); n > 0 {
		r.log.Warn("call records left in the spool; they are replayed at next start", "records", n,
			"path", r.opts.SpoolPath)
	}
	if err := r.spool.close(); err != nil {
		return err
	}
	return ctx.Err()
}

func (r *Recorder) run() {
	defer close(r.done)
	t := time.NewTicker(r.opts.RetryInterval)
	defer t.Stop()
	if r.degraded() {
		r.replay(context.Background())
	}
	for {
		select {
		case rec := <-r.queue:
			r.writeBatch(context.Background(), r.collect(rec))
		case <-t.C:
			if r.degraded() {
				r.replay(context.Background())
			}
		case <-r.stop:
			r.drain()
			return
		}
	}
}

// drain empties the queue at Close. Submit no longer sends once closed is
// set, so the queue only shrinks here.
func (r *Recorder) drain() {
	ctx := r.drainCtx
	for {
		select {
		case rec := <-r.queue:
			batch := r.collect(rec)
			if ctx.Err() != nil {
				for _, rec := range batch {
					r.toSpool(rec)
				}
			} else {
				r.writeBatch(ctx, batch)
			}
		default:
			if r.degraded() && ctx.Err() == nil {
				r.replay(ctx)
			}
			return
		}
	}
}

// maxBatch bounds how many queued records one transaction writes.
const maxBatch = 100

// collect returns rec and the records queued behind it (up to maxBatch in
// all), without waiting for more: under load the writer takes what piled
// up during its last write, and a lone record is written at once. A record
// with a callback request ends its batch: whether the request is kept
// depends on the café's later calls already recorded, which must be the
// ones recorded before it, as when records are written one by one.
func (r *Recorder) collect(rec *CallRecord) []*CallRecord {
	batch := []*CallRecord{rec}
	for len(batch) < maxBatch && batch[len(batch)-1].Callback == nil {
		select {
		case more := <-r.queue:
			batch = append(batch, more)
		default:
			return batch
		}
	}
	return batch
}

// writeBatch stores records in one transaction (WriteCalls). When the
// database refuses one of them for good, they are written one by one so
// that only that one is rejected; when it fails otherwise, they all go to
// the spool (as write would do record by record).
func (r *Recorder) writeBatch(ctx context.Context, batch []*CallRecord) {
	if len(batch) == 1 || r.degraded() {
		for _, rec := range batch {
			r.write(ctx, rec)
		}
		return
	}
	wctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
	defer cancel()
	_, err := WriteCalls(wctx, r.db, batch)
	switch {
	case err == nil:
	case permanent(err):
		r.log.Info("database refused a batch of call records; writing them one by one", "records", len(batch), "err", err)
		for _, rec := range batch {
			r.write(ctx, rec)
		}
	default:
		r.obs.DBError("write_call")
		r.log.Warn("cannot write call records; spooling", "records", len(batch), "first_call", batch[0].ID, "err", err)
		for _, rec := range batch {
			r.toSpool(rec)
		}
	}
}

// write stores one record, or spools it when the database fails or the spool
// is not empty (the spool is replayed first, so records are not written far
// out of order and a dead database is not hammered).
func (r *Recorder) write(ctx context.Context, rec *CallRecord) {
	if r.degraded() {
		r.toSpool(rec)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
	defer cancel()
	_, err := WriteCall(wctx, r.db, rec)
	switch {
	case err == nil:
	case permanent(err):
		r.obs.DBError("write_call")
		r.log.Error("database refused call record; kept in the rejected file", "call", rec.ID, "err", err)
		r.reject(rec, err)
	default:
		r.obs.DBError("write_call")
		r.log.Warn("cannot write call record; spooling", "call", rec.ID, "err", err)
		r.toSpool(rec)
	}
}

// replay writes the spooled records to the database; on success it removes
// them from the spool. It stops at the first transient failure and keeps the
// whole spool (records already written are skipped next time by their id).
func (r *Recorder) replay(ctx context.Context) {
	recs, bad, end, err := r.spool.readAll()
	if err != nil {
		r.log.Error("cannot read the spool", "path", r.opts.SpoolPath, "err", err)
		return
	}
	type rejection struct {
		rec *CallRecord
		err error
	}
	var rejected []rejection
	written := 0
	for _, rec := range recs {
		wctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
		inserted, err := WriteCall(wctx, r.db, rec)
		cancel()
		switch {
		case err == nil:
			if inserted {
				written++
			}
		case permanent(err):
			r.obs.DBError("replay")
			rejected = append(rejected, rejection{rec, err})
		default:
			r.obs.DBError("replay")
			r.log.Warn("spool replay failed; retrying later", "records", len(recs), "err", err)
			return
		}
	}
	// Set aside what can never be written, once, just before those lines
	// leave the spool.
	for _, line := range bad {
		r.log.Error("unreadable line in the spool; kept in the rejected file", "line", string(line))
		r.spool.rejectRaw(line)
	}
	for _, rj := range rejected {
		r.log.Error("database refused spooled call record; kept in the rejected file", "call", rj.rec.ID, "err", rj.err)
		r.reject(rj.rec, rj.err)
	}
	if err := r.spool.dropHead(end); err != nil {
		r.log.Error("cannot compact the spool; it will be replayed again", "err", err)
		return
	}
	n := r.spool.count()
	r.obs.SetSpooled(n)
	r.log.Info("spool replayed", "records", len(recs), "written", written, "left", n)
}

func (r *Recorder) toSpool(rec *CallRecord) {
	if err := r.spool.append(rec); err != nil {
		// The disk failed too: the one thing left is the log.
		r.log.Error("CALL RECORD LOST: cannot write the spool", "call", rec.ID, "err", err, "record", rec)
		return
	}
	r.obs.SetSpooled(r.spool.count())
}

func (r *Recorder) reject(rec *CallRecord, cause error) {
	if err := r.spool.reject(rec, cause); err != nil {
		r.log.Error("CALL RECORD LOST: cannot write the rejected file", "call", rec.ID, "err", err, "record", rec)
	}
}

// permanent reports whether the database refused the data itself (a
// constraint or data error, or our own validation): retrying cannot help.
func permanent(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "22", "23": // data exception, integrity constraint violation
			return true
		}
		return false
	}
	var ve validationError
	return errors.As(err, &ve)
}

// validationError marks CallRecord.Validate failures inside WriteCall.
type validationError struct{ error }

func (e validationError) Unwrap() error { return e.error }

type nopObserver struct{}

func (nopObserver) SetSpooled(int) {}
func (nopObserver) DBError(string) {}

var _ Observer = nopObserver{}

// String helps log lines.
func (r *Recorder) String() string { return fmt.Sprintf("recorder(%s)", r.opts.SpoolPath) }
