package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/luvs-lb/luvs/internal/model"
)

// Batch limits: a chunk is one sendmsg. The kernel handles its messages in
// order and answers only the failures, plus an ack for the chunk's last
// message, which tells us every answer for the chunk has arrived.
const (
	maxChunkBytes = 1 << 20
	maxChunkOps   = 4096
	replyCost     = 1280 // receive-buffer bytes one error reply may take (skb truesize)
)

// ApplyResult is the outcome of a bulk apply: one entry in Errors per op.
type ApplyResult struct {
	Ops []model.Op
	// Errors[i] is nil when Ops[i] was applied, else why it was not.
	Errors []error
	// RoundTrips is the number of sendmsg calls made.
	RoundTrips int
}

// Applied counts the ops the kernel accepted.
func (r *ApplyResult) Applied() int { return len(r.Ops) - r.Failed() }

// Failed counts the ops that were refused or not sent.
func (r *ApplyResult) Failed() int {
	n := 0
	for _, e := range r.Errors {
		if e != nil {
			n++
		}
	}
	return n
}

// Err joins the errors of every failed op, or returns nil.
func (r *ApplyResult) Err() error {
	var errs []error
	for _, e := range r.Errors {
		if e != nil {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// OpError is the kernel's refusal of one op.
type OpError struct {
	Op  model.Op
	Err error
}

func (e *OpError) Error() string { return e.Op.String() + ": " + e.Err.Error() }
func (e *OpError) Unwrap() error { return e.Err }

// Apply sends ops to the kernel in as few round trips as possible and
// reports the outcome of each. Ops are applied in the given order; a refused
// op does not stop the ones after it.
func (cl *Client) Apply(ops []model.Op) *ApplyResult {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	res := &ApplyResult{Ops: ops, Errors: make([]error, len(ops))}
	limit := maxChunkOps
	if n := cl.c.rcvBuf / replyCost; n > 0 && n < limit {
		limit = n
	}
	if cl.MaxBatch > 0 && cl.MaxBatch < limit {
		limit = cl.MaxBatch
	}
	maxBytes := maxChunkBytes
	if n := cl.c.sndBuf / 2; n > 0 && n < maxBytes {
		maxBytes = n
	}
	// Room for the first chunk (a message is at most ~200 bytes); append grows it.
	buf := make([]byte, 0, min(maxBytes, len(ops)*200)+4096)
	idx := make([]int, 0, limit) // idx[k]: the op sent with sequence number first+k
	for start := 0; start < len(ops); {
		buf, idx = buf[:0], idx[:0]
		first := cl.c.seq + 1
		lastOff, end := 0, start
		for ; end < len(ops) && len(idx) < limit && len(buf) < maxBytes; end++ {
			off := len(buf)
			buf = appendMsgHeader(buf, cl.c.family, unix.NLM_F_REQUEST, cl.c.nextSeq(), 0, genlVersion)
			w := attrWriter{b: buf}
			cmd, err := appendOp(&w, &ops[end])
			if err != nil {
				res.Errors[end] = &OpError{Op: ops[end], Err: err}
				buf = buf[:off]
				cl.c.seq--
				continue
			}
			buf = finishMsg(w.b, off, cmd)
			lastOff = off
			idx = append(idx, end)
		}
		if len(idx) == 0 {
			start = end
			continue
		}
		// Ask for an ack on the chunk's last message: its answer closes the chunk.
		binary.NativeEndian.PutUint16(buf[lastOff+6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
		res.RoundTrips++
		if err := cl.c.send(buf); err != nil {
			markRest(res, start, len(ops), fmt.Errorf("not sent: %w", err))
			return res
		}
		if err := cl.collect(res, idx, first); err != nil {
			markRest(res, start, end, fmt.Errorf("status unknown: %w", err))
			markRest(res, end, len(ops), errors.New("not sent after an earlier failure"))
			return res
		}
		start = end
	}
	return res
}

// collect reads the replies for a chunk whose messages carry sequence
// numbers first, first+1, ... for ops idx[0], idx[1], ..., and records
// failures in res. The ack of the last message ends the chunk.
func (cl *Client) collect(res *ApplyResult, idx []int, first uint32) error {
	last := first + uint32(len(idx)) - 1
	for {
		msgs, err := cl.c.receive()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.typ != unix.NLMSG_ERROR {
				continue
			}
			errno, seq, text := nlError(m)
			if seq-first > last-first {
				continue // not this chunk's
			}
			i := idx[seq-first]
			if errno != 0 && res.Errors[i] == nil {
				res.Errors[i] = &OpError{Op: res.Ops[i], Err: describe(res.Ops[i].Kind, &kernelError{Errno: errno, Text: text})}
			}
			if seq == last {
				return nil
			}
		}
	}
}

// markRest marks ops[from:to] that have no outcome yet with err.
func markRest(res *ApplyResult, from, to int, err error) {
	for i := from; i < to; i++ {
		if res.Errors[i] == nil {
			res.Errors[i] = &OpError{Op: res.Ops[i], Err: err}
		}
	}
}

// describe turns an errno into the IPVS meaning for the given operation,
// in the spirit of ipvsadm's messages.
func describe(kind model.OpKind, err error) error {
	var ke *kernelError
	if !errors.As(err, &ke) || ke.Text != "" {
		return err
	}
	var msg string
	switch ke.Errno {
	case unix.EEXIST:
		switch kind {
		case model.AddService:
			msg = "service already exists"
		case model.AddDest:
			msg = "real server already exists"
		}
	case unix.ESRCH:
		msg = "no such service"
	case unix.ENOENT:
		switch kind {
		case model.AddService, model.EditService:
			msg = "scheduler or persistence engine not found (is its ip_vs_* module available?)"
		case model.EditDest, model.DelDest:
			msg = "no such real server"
		}
	case unix.EBUSY:
		msg = "real server is busy being deleted; try again"
	case unix.EINVAL:
		switch kind {
		case model.AddDest, model.EditDest:
			msg = "invalid real server (NAT needs the same address family and a local route; is lo up?)"
		default:
			msg = "invalid argument"
		}
	case unix.EAFNOSUPPORT:
		msg = "address family not supported (IPv6 disabled?)"
	case unix.EPERM:
		msg = "permission denied (need CAP_NET_ADMIN: run as root)"
	}
	if msg == "" {
		return err
	}
	return &kernelError{Errno: ke.Errno, Text: msg}
}
