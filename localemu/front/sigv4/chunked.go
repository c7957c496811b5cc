package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxChunk bounds one chunk of an aws-chunked body: each is read whole and
// its signature checked before a byte of it is handed on. The SDKs send 64
// KiB chunks (aws-sdk-go-v2) up to 8 MiB (botocore's part-sized ones).
const MaxChunk = 16 << 20

// ErrChunk is a malformed aws-chunked body; *Error a chunk whose signature
// does not match.
var ErrChunk = errors.New("malformed aws-chunked body")

var emptySHA256 = func() string { h := sha256.Sum256(nil); return hex.EncodeToString(h[:]) }()

// Chunked decodes an aws-chunked body (S3 API Reference, "Signature
// Calculations for the Authorization Header: Transferring Payload in
// Multiple Chunks (Chunked Upload)" and "... with trailing headers"): the
// payload comes as "<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n"
// chunks ending with a zero-size one, then for the TRAILER variants
// trailing headers (a checksum, and x-amz-trailer-signature when signed).
// With mode StreamingPayload or StreamingPayloadTrailer each chunk's
// signature chains from the request's seed signature and is verified
// before its data is returned; StreamingUnsignedTrailer chunks carry none.
// q may be nil (no credentials): the framing is still decoded.
func (q *Request) Chunked(body io.Reader, mode string) io.Reader {
	c := &chunkReader{br: bufio.NewReaderSize(body, 64<<10), q: q, mode: mode}
	if q != nil {
		c.prev = q.sig
	}
	return c
}

type chunkReader struct {
	br   *bufio.Reader
	q    *Request
	mode string
	prev string // the previous chunk's signature
	buf  []byte
	off  int
	done bool
	err  error
}

func (c *chunkReader) signed() bool {
	return c.q != nil && (c.mode == StreamingPayload || c.mode == StreamingPayloadTrailer)
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.off == len(c.buf) {
		if c.err != nil {
			return 0, c.err
		}
		if c.done {
			return 0, io.EOF
		}
		c.err = c.next()
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

func (c *chunkReader) line() (string, error) {
	l, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", fmt.Errorf("%w: a chunk header is too long", ErrChunk)
		}
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%w: the body ended inside a chunk header", ErrChunk)
		}
		return "", err
	}
	return strings.TrimRight(string(l), "\r\n"), nil
}

// next reads one chunk whole and verifies it.
func (c *chunkReader) next() error {
	head, err := c.line()
	if err != nil {
		return err
	}
	sizeHex, ext, _ := strings.Cut(head, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if err != nil || size < 0 {
		return fmt.Errorf("%w: chunk size %q", ErrChunk, sizeHex)
	}
	if size > MaxChunk {
		return fmt.Errorf("%w: a chunk of %d bytes is over the emulator's %d", ErrChunk, size, MaxChunk)
	}
	sig, hasSig := strings.CutPrefix(strings.TrimSpace(ext), "chunk-signature=")
	if c.signed() && !hasSig {
		return &Error{"SignatureDoesNotMatch", "a chunk of a signed aws-chunked body has no chunk-signature"}
	}
	if cap(c.buf) < int(size) {
		c.buf = make([]byte, size)
	}
	c.buf, c.off = c.buf[:size], 0
	if _, err := io.ReadFull(c.br, c.buf); err != nil {
		return fmt.Errorf("%w: the body ended inside a chunk (%v)", ErrChunk, err)
	}
	if size > 0 || c.mode == StreamingPayload {
		var crlf [2]byte
		if _, err := io.ReadFull(c.br, crlf[:]); err != nil || string(crlf[:]) != "\r\n" {
			if size > 0 || err == nil {
				return fmt.Errorf("%w: a chunk does not end with CRLF", ErrChunk)
			}
		}
	}
	if c.signed() {
		h := sha256.Sum256(c.buf)
		sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.q.amzDate + "\n" + c.q.credScope() + "\n" + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(h[:])
		want := hex.EncodeToString(hmacSHA256(c.q.signingKey(), sts))
		if !hmac.Equal([]byte(want), []byte(sig)) {
			return &Error{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided (a chunk of the aws-chunked body)."}
		}
		c.prev = sig
	}
	if size == 0 {
		c.done = true
		if c.mode == StreamingPayloadTrailer || c.mode == StreamingUnsignedTrailer {
			return c.trailer()
		}
	}
	return nil
}

// trailer reads the trailing headers up to the empty line and, for a
// signed body, checks x-amz-trailer-signature over them.
func (c *chunkReader) trailer() error {
	var canon bytes.Buffer
	var trailerSig string
	for {
		l, err := c.line()
		if err != nil {
			if errors.Is(err, ErrChunk) && canon.Len() > 0 {
				break // some clients end the body without the final CRLF
			}
			return err
		}
		if l == "" {
			break
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return fmt.Errorf("%w: trailer line %q", ErrChunk, l)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "x-amz-trailer-signature" {
			trailerSig = strings.TrimSpace(v)
			continue
		}
		canon.WriteString(k + ":" + strings.TrimSpace(v) + "\n")
	}
	if c.signed() && c.mode == StreamingPayloadTrailer {
		h := sha256.Sum256(canon.Bytes())
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.q.amzDate + "\n" + c.q.credScope() + "\n" + c.prev + "\n" + hex.EncodeToString(h[:])
		want := hex.EncodeToString(hmacSHA256(c.q.signingKey(), sts))
		if !hmac.Equal([]byte(want), []byte(trailerSig)) {
			return &Error{"SignatureDoesNotMatch", "The trailer signature of the aws-chunked body does not match."}
		}
	}
	return nil
}
