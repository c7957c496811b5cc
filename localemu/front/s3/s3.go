// Package s3 is the emulator's Amazon S3 front: the path-style REST API
// (http://HOST:PORT/{bucket}/{key}) over the engine's object store, as the
// AWS SDKs, the aws CLI and boto3 speak it when pointed at the emulator
// with path-style addressing — what asyncfn's aws adapter uses to deploy
// packages above Lambda's inline limit, and what a function's own code
// uses through AWS_ENDPOINT_URL_S3.
//
// It claims a request by its SigV4 credential scope's service, "s3" (the
// Authorization header or a presigned URL's X-Amz-Credential), and serves
// the whole request itself: its paths overlap every other front's.
//
// Operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
// GetBucketLocation, ListObjectsV2 and ListObjects, PutObject, GetObject
// (one Range), HeadObject, DeleteObject, CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, AbortMultipartUpload. Anything else answers
// S3's 501 NotImplemented. Errors are S3's XML (<Error><Code>NoSuchKey</Code>
// ...); HEAD errors carry no body, as S3's.
//
// Authentication comes before the body is read: the headers' signature
// (which covers X-Amz-Content-Sha256) is checked first; a hex payload hash
// is then checked as the body streams to the object store, which keeps the
// object only if it matches; aws-chunked bodies are verified chunk by chunk
// (package sigv4). A single PUT is capped at S3's 5 GiB; the body must
// arrive at MinUploadRate on average or the connection is dropped.
package s3

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/front/sigv4"
)

// Limits of the front.
const (
	// MaxPutBody caps a PutObject or UploadPart body: S3's 5 GiB single PUT.
	MaxPutBody = localemu.MaxPutObjectSize
	// maxXMLBody caps the XML bodies (CompleteMultipartUpload of 10,000
	// parts is about 1 MB).
	maxXMLBody = 4 << 20
	// MinUploadRate is the slowest average rate at which an object body
	// may arrive, after a minute's grace: a stalled client is dropped.
	MinUploadRate = 256 << 10 // bytes per second
	uploadGrace   = time.Minute
)

// Front serves S3.
type Front struct {
	engine *localemu.Engine
	creds  *front.Credentials
	log    *slog.Logger
}

var (
	_ front.Front  = (*Front)(nil)
	_ http.Handler = (*Front)(nil)
)

// New returns the S3 front of an engine.
func New(e *localemu.Engine, creds *front.Credentials, log *slog.Logger) *Front {
	return &Front{engine: e, creds: creds, log: log}
}

// Register adds no routes: the front serves what it claims (ServeHTTP).
func (s *Front) Register(*http.ServeMux) {}

// Root is nil: S3 has no POST / operation here.
func (s *Front) Root() http.Handler { return nil }

// Claims a request signed for the service "s3".
func (s *Front) Claims(r *http.Request) bool {
	scope, ok := sigv4.ScopeOf(r)
	return ok && scope.Service == "s3"
}

// Refuse answers a refusal in S3's XML shape.
func (s *Front) Refuse(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string) {
	e := &s3Error{status: why.Status(), code: "InvalidRequest", msg: msg}
	switch why {
	case front.ForbiddenHost, front.CrossOrigin:
		e.code = "AccessDenied"
	case front.HeadersTooLarge:
		e.status, e.code = http.StatusBadRequest, "RequestHeaderSectionTooLarge"
	case front.NotFound:
		e.status, e.code = http.StatusNotImplemented, "NotImplemented"
	}
	writeError(w, r, e, uuid.NewString())
}

// s3Error is an error answer.
type s3Error struct {
	status      int
	code, msg   string
	bucket, key string
}

func (e *s3Error) Error() string { return e.code + ": " + e.msg }

func newErr(status int, code, format string, args ...any) *s3Error {
	return &s3Error{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// errorXML is S3's error body (S3 API Reference, "Error responses": REST
// error response).
type errorXML struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string
	Message    string
	BucketName string `xml:",omitempty"`
	Key        string `xml:",omitempty"`
	Resource   string
	RequestID  string `xml:"RequestId"`
	HostID     string `xml:"HostId"`
}

func writeError(w http.ResponseWriter, r *http.Request, e *s3Error, id string) {
	h := w.Header()
	h.Set("x-amz-request-id", id)
	if r.Method == http.MethodHead {
		w.WriteHeader(e.status) // S3 answers HEAD errors without a body
		return
	}
	h.Set("Content-Type", "application/xml")
	w.WriteHeader(e.status)
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(errorXML{Code: e.code, Message: e.msg, BucketName: e.bucket, Key: e.key, Resource: r.URL.Path, RequestID: id, HostID: id})
}

// engineError maps an engine error to S3's code (S3 API Reference, "Error
// responses": List of error codes).
func engineError(err error) *s3Error {
	var oe *localemu.ObjectError
	bucket, key := "", ""
	if errors.As(err, &oe) {
		bucket, key = oe.Bucket, oe.Key
	}
	e := func(status int, code string) *s3Error {
		msg := err.Error()
		if oe != nil {
			msg = oe.Err.Error()
		}
		return &s3Error{status: status, code: code, msg: msg, bucket: bucket, key: key}
	}
	switch {
	case errors.Is(err, localemu.ErrNoSuchBucket):
		return e(http.StatusNotFound, "NoSuchBucket")
	case errors.Is(err, localemu.ErrNoSuchKey):
		return e(http.StatusNotFound, "NoSuchKey")
	case errors.Is(err, localemu.ErrNoSuchUpload):
		return e(http.StatusNotFound, "NoSuchUpload")
	case errors.Is(err, localemu.ErrBucketExists):
		return e(http.StatusConflict, "BucketAlreadyOwnedByYou")
	case errors.Is(err, localemu.ErrBucketNotEmpty):
		return e(http.StatusConflict, "BucketNotEmpty")
	case errors.Is(err, localemu.ErrInvalidBucketName):
		return e(http.StatusBadRequest, "InvalidBucketName")
	case errors.Is(err, localemu.ErrInvalidKey) && strings.Contains(err.Error(), "bytes, more than"):
		return e(http.StatusBadRequest, "KeyTooLongError")
	case errors.Is(err, localemu.ErrInvalidKey):
		return e(http.StatusBadRequest, "InvalidArgument")
	case errors.Is(err, localemu.ErrInvalidPartOrder):
		return e(http.StatusBadRequest, "InvalidPartOrder")
	case errors.Is(err, localemu.ErrInvalidPart):
		return e(http.StatusBadRequest, "InvalidPart")
	case errors.Is(err, localemu.ErrEntityTooSmall):
		return e(http.StatusBadRequest, "EntityTooSmall")
	case errors.Is(err, localemu.ErrEntityTooLarge):
		return e(http.StatusBadRequest, "EntityTooLarge")
	case errors.Is(err, localemu.ErrIncompleteBody):
		return e(http.StatusBadRequest, "IncompleteBody")
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return authError(se)
	}
	var me *mismatchError
	if errors.As(err, &me) {
		return newErr(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	if errors.Is(err, sigv4.ErrChunk) {
		return newErr(http.StatusBadRequest, "IncompleteBody", "%s", err.Error())
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return newErr(http.StatusBadRequest, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period.")
	}
	return e(http.StatusInternalServerError, "InternalError")
}

// authError maps a signature failure to S3's codes.
func authError(se *sigv4.Error) *s3Error {
	switch {
	case se.Code == "MissingAuthenticationTokenException", se.Code == "AccessDenied":
		return newErr(http.StatusForbidden, "AccessDenied", "%s", se.Msg)
	case se.Code == "UnrecognizedClientException":
		return newErr(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	case se.Code == "IncompleteSignatureException":
		return newErr(http.StatusBadRequest, "AuthorizationHeaderMalformed", "%s", se.Msg)
	case strings.HasPrefix(se.Msg, "Signature expired"):
		return newErr(http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	case strings.HasPrefix(se.Msg, "Credential should be scoped"):
		return newErr(http.StatusBadRequest, "AuthorizationHeaderMalformed", "%s", se.Msg)
	}
	return newErr(http.StatusForbidden, "SignatureDoesNotMatch", "%s", se.Msg)
}

// call is one authenticated request.
type call struct {
	w           http.ResponseWriter
	r           *http.Request
	id          string
	signed      *sigv4.Request
	bucket, key string
	q           url.Values
}

// ServeHTTP authenticates and serves one S3 request.
func (s *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, id: uuid.NewString(), q: r.URL.Query()}
	c.bucket, c.key = splitPath(r.URL.Path)
	signed, err := sigv4.CheckHeaders(r, s.creds, time.Now(), sigv4.Options{S3: true})
	if err == nil {
		err = signed.CheckScope("s3")
	}
	if err != nil {
		var se *sigv4.Error
		errors.As(err, &se)
		writeError(w, r, authError(se), c.id)
		return
	}
	c.signed = signed
	if err := s.route(r.Context(), c); err != nil {
		var e *s3Error
		if !errors.As(err, &e) {
			e = engineError(err)
		}
		if e.status >= 500 {
			s.log.Error("s3 request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeError(w, r, e, c.id)
	}
}

// splitPath turns a path-style path into bucket and key (the key as sent,
// "..", "//" and all: it never becomes a file path).
func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

func (s *Front) route(ctx context.Context, c *call) error {
	r := c.r
	has := func(k string) bool { _, ok := c.q[k]; return ok }
	switch {
	case c.bucket == "":
		if r.Method == http.MethodGet {
			return s.listBuckets(ctx, c)
		}
	case c.key == "":
		switch {
		case r.Method == http.MethodPut && plain(c.q):
			return s.createBucket(ctx, c)
		case r.Method == http.MethodHead:
			return s.headBucket(ctx, c)
		case r.Method == http.MethodDelete && plain(c.q):
			return s.deleteBucket(ctx, c)
		case r.Method == http.MethodGet && has("location"):
			return s.bucketLocation(ctx, c)
		case r.Method == http.MethodGet && !hasSubresource(c.q):
			return s.listObjects(ctx, c)
		}
	default:
		switch {
		case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		case r.Method == http.MethodPut && has("partNumber") && has("uploadId"):
			return s.uploadPart(ctx, c)
		case r.Method == http.MethodPut && plain(c.q):
			return s.putObject(ctx, c)
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && !hasSubresource(c.q):
			return s.getObject(ctx, c)
		case r.Method == http.MethodDelete && has("uploadId"):
			return s.abortUpload(ctx, c)
		case r.Method == http.MethodDelete && plain(c.q):
			return s.deleteObject(ctx, c)
		case r.Method == http.MethodPost && has("uploads"):
			return s.createUpload(ctx, c)
		case r.Method == http.MethodPost && has("uploadId"):
			return s.completeUpload(ctx, c)
		}
	}
	if err := c.signed.Verify(c.signed.ClaimedPayload()); err != nil {
		return err // who is asking first, what is not served after
	}
	return newErr(http.StatusNotImplemented, "NotImplemented", "the emulator's S3 does not implement %s %s (see the package documentation of localemu/front/s3)", r.Method, r.URL.RequestURI())
}

// plain: a query with nothing but what the SDKs add to every request
// (x-id) and a presigned URL's signature.
func plain(q url.Values) bool {
	for k := range q {
		if k != "x-id" && !strings.HasPrefix(k, "X-Amz-") {
			return false
		}
	}
	return true
}

// hasSubresource: a query naming an S3 subresource (?acl, ?tagging, ...)
// rather than listing parameters.
func hasSubresource(q url.Values) bool {
	for k := range q {
		switch k {
		case "list-type", "prefix", "delimiter", "max-keys", "marker", "start-after", "continuation-token", "encoding-type", "fetch-owner",
			"response-content-type", "response-content-disposition", "response-cache-control", "response-content-encoding", "response-expires", "partNumber", "versionId",
			"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", "x-id":
			continue
		}
		return true
	}
	return false
}

// verifyBody checks the signature of a request whose body was read whole
// (nil: a request without one).
func (c *call) verifyBody(body []byte) error {
	claimed := c.signed.ClaimedPayload()
	if claimed == sigv4.UnsignedPayload {
		return c.signed.Verify(claimed)
	}
	h := sha256.Sum256(body)
	return c.signed.Verify(hex.EncodeToString(h[:]))
}

// readXML reads a small body whole, verifies it and decodes it into v (v nil: discard).
func (c *call) readXML(v any) error {
	if c.r.ContentLength > maxXMLBody {
		return newErr(http.StatusBadRequest, "MaxMessageLengthExceeded", "Your request was too big.")
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxXMLBody+1))
	if err != nil {
		return newErr(http.StatusBadRequest, "IncompleteBody", "read the request body: %v", err)
	}
	if len(body) > maxXMLBody {
		return newErr(http.StatusBadRequest, "MaxMessageLengthExceeded", "Your request was too big.")
	}
	if err := c.verifyBody(body); err != nil {
		return err
	}
	if v != nil && len(strings.TrimSpace(string(body))) > 0 {
		if err := xml.Unmarshal(body, v); err != nil {
			return newErr(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
		}
	}
	return nil
}

func (c *call) writeXML(status int, v any) error {
	h := c.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("x-amz-request-id", c.id)
	c.w.WriteHeader(status)
	io.WriteString(c.w, xml.Header)
	return xml.NewEncoder(c.w).Encode(v)
}

func (c *call) ok() error {
	c.w.Header().Set("x-amz-request-id", c.id)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func quoteETag(etag string) string { return `"` + etag + `"` }

// --- buckets ---

type bucketXML struct {
	Name         string
	CreationDate string
}

func (s *Front) listBuckets(ctx context.Context, c *call) error {
	if err := c.verifyBody(nil); err != nil {
		return err
	}
	bs, err := s.engine.ListBuckets(ctx)
	if err != nil {
		return err
	}
	out := struct {
		XMLName xml.Name `xml:"ListAllMyBucketsResult"`
		NS      string   `xml:"xmlns,attr"`
		Owner   struct{ ID, DisplayName string }
		Buckets []bucketXML `xml:"Buckets>Bucket"`
	}{NS: s3NS}
	out.Owner.ID, out.Owner.DisplayName = "asyncfn", "asyncfn"
	for _, b := range bs {
		out.Buckets = append(out.Buckets, bucketXML{Name: b.Name, CreationDate: isoTime(b.CreatedAt)})
	}
	return c.writeXML(http.StatusOK, out)
}

func (s *Front) createBucket(ctx context.Context, c *call) error {
	if err := c.readXML(nil); err != nil { // CreateBucketConfiguration: the region, which is the signer's
		return err
	}
	if err := s.engine.CreateBucket(ctx, c.bucket); err != nil {
		return err
	}
	c.w.Header().Set("Location", "/"+c.bucket)
	return c.ok()
}

func (s *Front) headBucket(ctx context.Context, c *call) error {
	if err := c.verifyBody(nil); err != nil {
		return err
	}
	if _, err := s.engine.HeadBucket(ctx, c.bucket); err != nil {
		return err
	}
	c.w.Header().Set("x-amz-bucket-region", c.signed.Region())
	return c.ok()
}

func (s *Front) deleteBucket(ctx context.Context, c *call) error {
	if err := c.verifyBody(nil); err != nil {
		return err
	}
	if err := s.engine.DeleteBucket(ctx, c.bucket); err != nil {
		return err
	}
	c.w.Header().Set("x-amz-request-id", c.id)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Front) bucketLocation(ctx context.Context, c *call) error {
	if err := c.verifyBody(nil); err != nil {
		return err
	}
	if _, err := s.engine.HeadBucket(ctx, c.bucket); err != nil {
		return err
	}
	region := c.signed.Region()
	if region == "us-east-1" {
		region = "" // S3 answers an empty LocationConstraint for us-east-1
	}
	return c.writeXML(http.StatusOK, struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		NS      string   `xml:"xmlns,attr"`
		Value   string   `xml:",chardata"`
	}{NS: s3NS, Value: region})
}

// --- listing ---

type contentXML struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
}

type prefixXML struct{ Prefix string }

func (s *Front) listObjects(ctx context.Context, c *call) error {
	if err := c.verifyBody(nil); err != nil {
		return err
	}
	v2 := c.q.Get("list-type") == "2"
	maxKeys := 1000
	if v := c.q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return newErr(http.StatusBadRequest, "InvalidArgument", "max-keys must be a non-negative integer")
		}
		maxKeys = min(n, 1000)
	}
	encode := func(s string) string { return s }
	if et := c.q.Get("encoding-type"); et == "url" {
		encode = func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/") }
	} else if et != "" {
		return newErr(http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request")
	}
	q := localemu.ObjectQuery{Bucket: c.bucket, Prefix: c.q.Get("prefix"), Delimiter: c.q.Get("delimiter"), MaxKeys: maxKeys}
	token := c.q.Get("continuation-token")
	if v2 {
		q.StartAfter = c.q.Get("start-after")
		if token != "" {
			raw, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil {
				return newErr(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
			}
			q.StartAfter = string(raw)
		}
	} else {
		q.StartAfter = c.q.Get("marker")
	}
	var page localemu.ObjectPage
	if maxKeys > 0 {
		var err error
		if page, err = s.engine.ListObjects(ctx, q); err != nil {
			return err
		}
	} else if _, err := s.engine.HeadBucket(ctx, c.bucket); err != nil {
		return err
	}
	type result struct {
		XMLName               xml.Name `xml:"ListBucketResult"`
		NS                    string   `xml:"xmlns,attr"`
		Name                  string
		Prefix                string
		Marker                *string `xml:",omitempty"`
		NextMarker            string  `xml:",omitempty"`
		StartAfter            string  `xml:",omitempty"`
		ContinuationToken     string  `xml:",omitempty"`
		NextContinuationToken string  `xml:",omitempty"`
		KeyCount              *int    `xml:",omitempty"`
		MaxKeys               int
		Delimiter             string `xml:",omitempty"`
		EncodingType          string `xml:",omitempty"`
		IsTruncated           bool
		Contents              []contentXML
		CommonPrefixes        []prefixXML
	}
	out := result{NS: s3NS, Name: c.bucket, Prefix: encode(q.Prefix), MaxKeys: maxKeys, Delimiter: encode(q.Delimiter),
		EncodingType: c.q.Get("encoding-type"), IsTruncated: page.Truncated}
	for _, o := range page.Objects {
		out.Contents = append(out.Contents, contentXML{Key: encode(o.Key), LastModified: isoTime(o.LastModified), ETag: quoteETag(o.ETag), Size: o.Size, StorageClass: "STANDARD"})
	}
	for _, p := range page.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, prefixXML{encode(p)})
	}
	if v2 {
		n := len(page.Objects) + len(page.CommonPrefixes)
		out.KeyCount = &n
		out.StartAfter = encode(c.q.Get("start-after"))
		out.ContinuationToken = token
		if page.Truncated {
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(page.Next))
		}
	} else {
		m := c.q.Get("marker")
		out.Marker = &m
		if page.Truncated && q.Delimiter != "" {
			out.NextMarker = encode(page.Next)
		}
	}
	return c.writeXML(http.StatusOK, out)
}

// --- objects ---

// body returns the request's payload as it must reach the store: framing
// removed and the signature checked as it streams (a mismatch fails the
// read, so the store keeps nothing), with its decoded size (-1 unknown).
func (c *call) body(w http.ResponseWriter) (io.Reader, int64, error) {
	r := c.r
	claimed := c.signed.ClaimedPayload()
	if c.signed == nil {
		claimed = r.Header.Get("X-Amz-Content-Sha256")
	}
	size := r.ContentLength
	chunked := strings.HasPrefix(claimed, "STREAMING-")
	if chunked {
		v := r.Header.Get("X-Amz-Decoded-Content-Length")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, 0, newErr(http.StatusLengthRequired, "MissingContentLength", "You must provide the x-amz-decoded-content-length header for an aws-chunked body.")
		}
		size = n
	}
	if size < 0 {
		return nil, 0, newErr(http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
	}
	if size > MaxPutBody {
		return nil, 0, newErr(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size of %d bytes.", int64(MaxPutBody))
	}
	// A deadline for the body proportional to its size; the server's
	// ReadTimeout is for API calls, not gigabytes.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(uploadGrace + time.Duration(r.ContentLength/MinUploadRate)*time.Second))
	switch {
	case chunked:
		switch claimed {
		case sigv4.StreamingPayload, sigv4.StreamingPayloadTrailer, sigv4.StreamingUnsignedTrailer:
		default:
			return nil, 0, newErr(http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 %q is not a payload S3 accepts", claimed)
		}
		if err := c.signed.Verify(claimed); err != nil {
			return nil, 0, err
		}
		return c.signed.Chunked(r.Body, claimed), size, nil
	case claimed == sigv4.UnsignedPayload:
		if err := c.signed.Verify(claimed); err != nil {
			return nil, 0, err
		}
		return r.Body, size, nil
	case c.signed == nil:
		return r.Body, size, nil
	}
	// A hex digest: the headers' signature now, the digest as it streams.
	if len(claimed) != 64 {
		return nil, 0, newErr(http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be the payload's SHA-256 in hex, UNSIGNED-PAYLOAD or a STREAMING- value")
	}
	if err := c.signed.Verify(claimed); err != nil {
		return nil, 0, err
	}
	return &hashCheck{r: io.LimitReader(r.Body, size), h: sha256.New(), want: claimed}, size, nil
}

// mismatchError: the body's SHA-256 is not the one signed.
type mismatchError struct{}

func (*mismatchError) Error() string { return "the body does not match x-amz-content-sha256" }

// hashCheck fails the read at the end of a body whose digest is not want.
type hashCheck struct {
	r    io.Reader
	h    hash.Hash
	want string
}

func (hc *hashCheck) Read(p []byte) (int, error) {
	n, err := hc.r.Read(p)
	hc.h.Write(p[:n])
	if errors.Is(err, io.EOF) && hex.EncodeToString(hc.h.Sum(nil)) != hc.want {
		return n, &mismatchError{}
	}
	return n, err
}

func (s *Front) putObject(ctx context.Context, c *call) error {
	body, size, err := c.body(c.w)
	if err != nil {
		return err
	}
	info, err := s.engine.PutObject(ctx, c.bucket, c.key, body, size, localemu.PutOptions{ContentType: c.r.Header.Get("Content-Type")})
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", quoteETag(info.ETag))
	return c.ok()
}

func (s *Front) getObject(ctx context.Context, c *call) error {
	if err := c.verifyBody(nil); err != nil {
		return err
	}
	o, err := s.engine.GetObject(ctx, c.bucket, c.key)
	if err != nil {
		return err
	}
	defer o.Body.Close()
	h := c.w.Header()
	h.Set("x-amz-request-id", c.id)
	h.Set("ETag", quoteETag(o.ETag))
	h.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	ct := o.ContentType
	if ct == "" {
		ct = "binary/octet-stream" // S3's default
	}
	if v := c.q.Get("response-content-type"); v != "" {
		ct = v
	}
	h.Set("Content-Type", ct)
	if i := strings.LastIndexByte(o.ETag, '-'); i >= 0 {
		h.Set("x-amz-mp-parts-count", o.ETag[i+1:]) // a multipart object
	}
	start, length, partial, rerr := parseRange(c.r.Header.Get("Range"), o.Size)
	if rerr != nil {
		h.Del("ETag")
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
		return rerr
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, o.Size))
	}
	c.w.WriteHeader(status)
	if c.r.Method == http.MethodHead {
		return nil
	}
	if _, err := o.Body.Seek(start, io.SeekStart); err != nil {
		return nil // the status is sent: the client sees a short body
	}
	io.Copy(c.w, io.LimitReader(o.Body, length))
	return nil
}

// parseRange reads one "bytes=a-b", "bytes=a-" or "bytes=-n" range (S3
// serves a single range; RFC 9110 §14.1.2). A header it does not
// understand is ignored, as S3 does; a range past the end is 416.
func parseRange(h string, size int64) (start, length int64, partial bool, err error) {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if h == "" || !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	invalid := newErr(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
	if a == "" {
		n, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil {
			return 0, size, false, nil
		}
		if n <= 0 || size == 0 {
			return 0, 0, false, invalid
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	s, perr := strconv.ParseInt(a, 10, 64)
	if perr != nil {
		return 0, size, false, nil
	}
	if s >= size {
		return 0, 0, false, invalid
	}
	e := size - 1
	if b != "" {
		v, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || v < s {
			return 0, size, false, nil
		}
		e = min(v, size-1)
	}
	return s, e - s + 1, true, nil
}

func (s *Front) deleteObject(ctx context.Context, c *call) error {
	if err := c.verifyBody(nil); err != nil {
		return err
	}
	if err := s.engine.DeleteObject(ctx, c.bucket, c.key); err != nil {
		return err
	}
	c.w.Header().Set("x-amz-request-id", c.id)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- multipart ---

func (s *Front) createUpload(ctx context.Context, c *call) error {
	if err := c.readXML(nil); err != nil {
		return err
	}
	id, err := s.engine.CreateMultipartUpload(ctx, c.bucket, c.key, localemu.PutOptions{ContentType: c.r.Header.Get("Content-Type")})
	if err != nil {
		return err
	}
	return c.writeXML(http.StatusOK, struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		NS       string   `xml:"xmlns,attr"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}{NS: s3NS, Bucket: c.bucket, Key: c.key, UploadID: id})
}

func (s *Front) uploadPart(ctx context.Context, c *call) error {
	n, err := strconv.Atoi(c.q.Get("partNumber"))
	if err != nil || n < 1 || n > localemu.MaxPartNumber {
		return newErr(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and %d, inclusive", localemu.MaxPartNumber)
	}
	body, size, err := c.body(c.w)
	if err != nil {
		return err
	}
	etag, err := s.engine.UploadPart(ctx, c.bucket, c.key, c.q.Get("uploadId"), n, body, size)
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", quoteETag(etag))
	return c.ok()
}

func (s *Front) completeUpload(ctx context.Context, c *call) error {
	var req struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := c.readXML(&req); err != nil {
		return err
	}
	if len(req.Parts) == 0 {
		return newErr(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	parts := make([]localemu.CompletedPart, len(req.Parts))
	for i, p := range req.Parts {
		parts[i] = localemu.CompletedPart{N: p.PartNumber, ETag: p.ETag}
	}
	info, err := s.engine.CompleteMultipartUpload(ctx, c.bucket, c.key, c.q.Get("uploadId"), parts)
	if err != nil {
		return err
	}
	return c.writeXML(http.StatusOK, struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		NS       string   `xml:"xmlns,attr"`
		Location string
		Bucket   string
		Key      string
		ETag     string
	}{NS: s3NS, Location: "http://" + c.r.Host + "/" + c.bucket + "/" + c.key, Bucket: c.bucket, Key: c.key, ETag: quoteETag(info.ETag)})
}

func (s *Front) abortUpload(ctx context.Context, c *call) error {
	if err := c.verifyBody(nil); err != nil {
		return err
	}
	if err := s.engine.AbortMultipartUpload(ctx, c.bucket, c.key, c.q.Get("uploadId")); err != nil {
		return err
	}
	c.w.Header().Set("x-amz-request-id", c.id)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
