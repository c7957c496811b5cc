package cos

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
)

// COS's limits the front checks before the engine sees a request.
const (
	// maxKeyBytes: an object key is at most 850 bytes (COS docs, "Object
	// Overview": 对象键 UTF-8 编码长度最大 850 字节).
	maxKeyBytes = 850
	// maxPutBytes: a simple upload (PUT Object) carries at most 5 GB (COS
	// API docs, "PUT Object"); larger objects go in parts.
	maxPutBytes = 5 << 30
	// maxXMLBody bounds a CompleteMultipartUpload document: 10000 parts of
	// about 100 bytes each.
	maxXMLBody = 2 << 20
	// maxListKeys: GET Bucket returns at most 1000 keys (COS API docs, "GET
	// Bucket": max-keys 默认 1000, 最大 1000).
	maxListKeys = 1000
)

// crcTable is COS's CRC-64/ECMA-182 (x-cos-hash-crc64ecma, as the SDK's
// calCRC64 computes it): cos-go-sdk-v5 checks it against its own after every
// upload and fails the upload when the header is missing or differs.
var crcTable = crc64.MakeTable(crc64.ECMA)

// Front serves COS's XML API for bucket hosts (see the package doc).
type Front struct {
	engine *localemu.Engine
	creds  *front.Credentials
	appID  string
	log    *slog.Logger
	now    func() time.Time
}

var _ front.Front = (*Front)(nil)

// New returns the COS front of an engine. appID is the emulator's account
// (DefaultAppID when empty).
func New(e *localemu.Engine, creds *front.Credentials, appID string, log *slog.Logger) *Front {
	if appID == "" {
		appID = DefaultAppID
	}
	return &Front{engine: e, creds: creds, appID: appID, log: log, now: time.Now}
}

// AppID is the emulator's COS account id.
func (f *Front) AppID() string { return f.appID }

// Register: COS is addressed by Host, not by path; the server hands it
// every request it Claims.
func (f *Front) Register(mux *http.ServeMux) {}

// Root: COS has no root action.
func (f *Front) Root() http.Handler { return nil }

// Claims a request whose Host is a COS bucket's.
func (f *Front) Claims(r *http.Request) bool {
	_, ok := ParseHost(r.Host)
	return ok
}

// Refuse answers in COS's XML shape.
func (f *Front) Refuse(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string) {
	setRequestID(w)
	code := why.Code()
	switch why {
	case front.ForbiddenHost, front.CrossOrigin:
		code = "AccessDenied"
	case front.HeadersTooLarge:
		code = "RequestHeaderSectionTooLarge"
	case front.NotFound:
		code = "MethodNotAllowed"
	}
	writeError(w, r, &Error{Status: why.Status(), Code: code, Message: msg})
}

func setRequestID(w http.ResponseWriter) string {
	if id := w.Header().Get("x-cos-request-id"); id != "" {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	w.Header().Set("x-cos-request-id", id)
	w.Header().Set("Server", "tencent-cos")
	return id
}

// ServeHTTP authenticates a claimed request from its request line and
// headers, then serves it.
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setRequestID(w)
	if err := f.serve(w, r); err != nil {
		e := objectError(err)
		if e.Status >= 500 {
			f.log.Warn("cos: request failed", "method", r.Method, "host", r.Host, "path", r.URL.Path, "err", err)
		}
		writeError(w, r, e)
	}
}

func (f *Front) serve(w http.ResponseWriter, r *http.Request) error {
	b, ok := ParseHost(r.Host)
	if !ok {
		return cosErr(http.StatusBadRequest, "InvalidURI", "the Host %q is not a COS bucket host (<name>-<appid>.cos.<region>.myqcloud.com)", r.Host)
	}
	if f.creds != nil {
		if fl := verify(r, f.creds, f.now()); fl != nil {
			return &Error{Status: fl.Status, Code: fl.Code, Message: fl.Msg}
		}
	}
	if b.AppID != f.appID {
		// Another account's bucket: the signer has no grant on it.
		return cosErr(http.StatusForbidden, "AccessDenied", "Access Denied. The bucket %s belongs to appid %s; the emulator's account is %s", b.Full(), b.AppID, f.appID)
	}
	ctx := r.Context()
	key := strings.TrimPrefix(r.URL.Path, "/")
	q := r.URL.Query()
	if key == "" {
		return f.serveBucket(ctx, w, r, b.Full(), q)
	}
	if len(key) > maxKeyBytes {
		return cosErr(http.StatusBadRequest, "KeyTooLong", "the object key is %d bytes; COS allows at most %d", len(key), maxKeyBytes)
	}
	switch r.Method {
	case http.MethodPut:
		if q.Has("uploadId") || q.Has("partNumber") {
			return f.uploadPart(ctx, w, r, b.Full(), key, q)
		}
		if err := onlyParams(q); err != nil {
			return err
		}
		if r.Header.Get("x-cos-copy-source") != "" {
			return cosErr(http.StatusNotImplemented, "NotImplemented", "PUT Object - Copy is not emulated")
		}
		return f.putObject(ctx, w, r, b.Full(), key)
	case http.MethodGet, http.MethodHead:
		if err := onlyParams(q, "response-content-type", "response-content-disposition", "response-cache-control", "response-content-encoding", "response-expires", "response-content-language"); err != nil {
			return err
		}
		return f.getObject(ctx, w, r, b.Full(), key)
	case http.MethodDelete:
		if q.Has("uploadId") {
			if err := f.engine.AbortMultipartUpload(ctx, b.Full(), key, q.Get("uploadId")); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		if err := onlyParams(q); err != nil {
			return err
		}
		if err := f.engine.DeleteObject(ctx, b.Full(), key); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodPost:
		if q.Has("uploads") {
			return f.initiateUpload(ctx, w, r, b.Full(), key)
		}
		if q.Has("uploadId") {
			return f.completeUpload(ctx, w, r, b.Full(), key, q.Get("uploadId"))
		}
	}
	return cosErr(http.StatusMethodNotAllowed, "MethodNotAllowed", "%s %s is not a COS object operation the emulator serves", r.Method, requestTarget(r))
}

func requestTarget(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return r.URL.Path
	}
	return r.URL.Path + "?" + r.URL.RawQuery
}

// onlyParams refuses a sub-resource (?acl, ?tagging, ...) the emulator does
// not serve, instead of silently answering the plain operation.
func onlyParams(q url.Values, allowed ...string) error {
	for k := range q {
		if strings.HasPrefix(k, "q-") || contains(allowed, k) {
			continue // a presigned URL's signature, or a parameter of the operation
		}
		return cosErr(http.StatusNotImplemented, "NotImplemented", "the sub-resource or parameter ?%s is not emulated", k)
	}
	return nil
}

func (f *Front) serveBucket(ctx context.Context, w http.ResponseWriter, r *http.Request, bucket string, q url.Values) error {
	switch r.Method {
	case http.MethodPut:
		if err := onlyParams(q); err != nil {
			return err
		}
		if err := f.engine.CreateBucket(ctx, bucket); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodHead:
		if err := onlyParams(q); err != nil {
			return err
		}
		if _, err := f.engine.HeadBucket(ctx, bucket); err != nil {
			return err
		}
		w.Header().Set("x-cos-bucket-region", regionOf(r.Host))
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodGet:
		if err := onlyParams(q, "prefix", "delimiter", "marker", "max-keys", "encoding-type"); err != nil {
			return err
		}
		return f.listObjects(ctx, w, bucket, q)
	case http.MethodDelete:
		if err := onlyParams(q); err != nil {
			return err
		}
		if err := f.engine.DeleteBucket(ctx, bucket); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return cosErr(http.StatusMethodNotAllowed, "MethodNotAllowed", "%s on a bucket is not a COS operation the emulator serves", r.Method)
}

func regionOf(host string) string {
	b, _ := ParseHost(host)
	return b.Region
}

// contentLength is a PUT's declared size: -1 for a chunked body.
func contentLength(r *http.Request, limit int64) (int64, error) {
	if r.ContentLength < 0 && len(r.TransferEncoding) == 0 {
		return 0, cosErr(http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
	}
	if r.ContentLength > limit {
		return 0, cosErr(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload of %d bytes exceeds the maximum allowed object size of %d bytes.", r.ContentLength, limit)
	}
	return r.ContentLength, nil
}

// crcReader counts the CRC-64 of what it reads.
type crcReader struct {
	r   io.Reader
	crc uint64
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc = crc64.Update(c.crc, crcTable, p[:n])
	return n, err
}

func (f *Front) putObject(ctx context.Context, w http.ResponseWriter, r *http.Request, bucket, key string) error {
	size, err := contentLength(r, maxPutBytes)
	if err != nil {
		return err
	}
	body := &crcReader{r: r.Body}
	info, err := f.engine.PutObject(ctx, bucket, key, body, size, localemu.PutOptions{ContentType: r.Header.Get("Content-Type")})
	if err != nil {
		return err
	}
	if err := checkMD5(r, info.ETag); err != nil {
		// The bytes arrived whole but not as sent: COS stores nothing.
		_ = f.engine.DeleteObject(context.WithoutCancel(ctx), bucket, key)
		return err
	}
	w.Header().Set("ETag", strconv.Quote(info.ETag))
	w.Header().Set("x-cos-hash-crc64ecma", strconv.FormatUint(body.crc, 10))
	w.WriteHeader(http.StatusOK)
	return nil
}

// checkMD5 compares a Content-MD5 header with the MD5 the engine computed.
func checkMD5(r *http.Request, etagHex string) error {
	v := r.Header.Get("Content-MD5")
	if v == "" {
		return nil
	}
	sum, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(sum) != md5.Size {
		return cosErr(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified is not valid.")
	}
	if hex.EncodeToString(sum) != etagHex {
		return cosErr(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	}
	return nil
}

func (f *Front) getObject(ctx context.Context, w http.ResponseWriter, r *http.Request, bucket, key string) error {
	if r.Method == http.MethodHead {
		info, err := f.engine.HeadObject(ctx, bucket, key)
		if err != nil {
			return err
		}
		objectHeaders(w, info)
		w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	o, err := f.engine.GetObject(ctx, bucket, key)
	if err != nil {
		return err
	}
	defer o.Body.Close()
	start, n, partial, err := byteRange(r.Header.Get("Range"), o.Size)
	if err != nil {
		return err
	}
	objectHeaders(w, o.ObjectInfo)
	if ct := r.URL.Query().Get("response-content-type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if partial {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+n-1, o.Size))
		status = http.StatusPartialContent
	}
	if _, err := o.Body.Seek(start, io.SeekStart); err != nil {
		return err
	}
	w.WriteHeader(status)
	_, _ = io.CopyN(w, o.Body, n) // a client gone mid-body is not an error to answer
	return nil
}

func objectHeaders(w http.ResponseWriter, info localemu.ObjectInfo) {
	ct := info.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("ETag", strconv.Quote(info.ETag))
	w.Header().Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("x-cos-storage-class", "STANDARD")
}

// byteRange reads a Range header (one RFC 9110 bytes range; a header of
// several ranges, or not in bytes, gets the whole object, as S3 and COS
// answer one) against an object of size bytes.
func byteRange(h string, size int64) (start, n int64, partial bool, err error) {
	if h == "" {
		return 0, size, false, nil
	}
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil // not a single bytes range: the whole object
	}
	invalid := cosErr(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range %q is not satisfiable for an object of %d bytes.", h, size)
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, false, invalid
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case a == "" && b == "":
		return 0, 0, false, invalid
	case a == "": // the last b bytes
		last, err := strconv.ParseInt(b, 10, 64)
		if err != nil || last <= 0 || size == 0 {
			return 0, 0, false, invalid
		}
		if last > size {
			last = size
		}
		return size - last, last, true, nil
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 || first >= size {
		return 0, 0, false, invalid
	}
	end := size - 1
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < first {
			return 0, 0, false, invalid
		}
		end = min(e, size-1)
	}
	return first, end - first + 1, true, nil
}

func writeXML(w http.ResponseWriter, v any) error {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type listContents struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	Owner        owner  `xml:"Owner"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// listResult is GET Bucket's answer (COS API docs, "GET Bucket").
type listResult struct {
	XMLName        xml.Name       `xml:"ListBucketResult"`
	Name           string         `xml:"Name"`
	EncodingType   string         `xml:"EncodingType,omitempty"`
	Prefix         string         `xml:"Prefix"`
	Marker         string         `xml:"Marker"`
	MaxKeys        int            `xml:"MaxKeys"`
	Delimiter      string         `xml:"Delimiter,omitempty"`
	IsTruncated    bool           `xml:"IsTruncated"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	CommonPrefixes []commonPrefix `xml:"CommonPrefixes,omitempty"`
	Contents       []listContents `xml:"Contents"`
}

func (f *Front) listObjects(ctx context.Context, w http.ResponseWriter, bucket string, q url.Values) error {
	maxKeys := maxListKeys
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cosErr(http.StatusBadRequest, "InvalidArgument", "max-keys %q is not a number from 0 to %d", v, maxListKeys)
		}
		maxKeys = min(n, maxListKeys)
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return cosErr(http.StatusBadRequest, "InvalidArgument", "encoding-type %q: COS takes only url", enc)
	}
	res := listResult{Name: bucket, EncodingType: enc, Prefix: q.Get("prefix"), Marker: q.Get("marker"), MaxKeys: maxKeys, Delimiter: q.Get("delimiter")}
	if maxKeys > 0 {
		page, err := f.engine.ListObjects(ctx, localemu.ObjectQuery{Bucket: bucket, Prefix: res.Prefix, StartAfter: res.Marker, Delimiter: res.Delimiter, MaxKeys: maxKeys})
		if err != nil {
			return err
		}
		res.IsTruncated = page.Truncated
		if page.Truncated {
			res.NextMarker = page.Next
		}
		for _, o := range page.Objects {
			res.Contents = append(res.Contents, listContents{
				Key: o.Key, LastModified: o.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"), ETag: strconv.Quote(o.ETag),
				Size: o.Size, Owner: owner{ID: f.appID, DisplayName: f.appID}, StorageClass: "STANDARD",
			})
		}
		for _, p := range page.CommonPrefixes {
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: p})
		}
	} else if _, err := f.engine.HeadBucket(ctx, bucket); err != nil {
		return err
	}
	if enc == "url" {
		esc := url.QueryEscape
		res.Prefix, res.Marker, res.Delimiter, res.NextMarker = esc(res.Prefix), esc(res.Marker), esc(res.Delimiter), esc(res.NextMarker)
		for i := range res.Contents {
			res.Contents[i].Key = esc(res.Contents[i].Key)
		}
		for i := range res.CommonPrefixes {
			res.CommonPrefixes[i].Prefix = esc(res.CommonPrefixes[i].Prefix)
		}
	}
	return writeXML(w, res)
}

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (f *Front) initiateUpload(ctx context.Context, w http.ResponseWriter, r *http.Request, bucket, key string) error {
	id, err := f.engine.CreateMultipartUpload(ctx, bucket, key, localemu.PutOptions{ContentType: r.Header.Get("Content-Type")})
	if err != nil {
		return err
	}
	return writeXML(w, initiateResult{Bucket: bucket, Key: key, UploadID: id})
}

func (f *Front) uploadPart(ctx context.Context, w http.ResponseWriter, r *http.Request, bucket, key string, q url.Values) error {
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > localemu.MaxPartNumber {
		return cosErr(http.StatusBadRequest, "InvalidArgument", "partNumber %q is not a number from 1 to %d", q.Get("partNumber"), localemu.MaxPartNumber)
	}
	if q.Get("uploadId") == "" {
		return cosErr(http.StatusBadRequest, "InvalidArgument", "uploadId is required with partNumber")
	}
	size, err := contentLength(r, localemu.MaxPartSize)
	if err != nil {
		return err
	}
	body := &crcReader{r: r.Body}
	etag, err := f.engine.UploadPart(ctx, bucket, key, q.Get("uploadId"), n, body, size)
	if err != nil {
		return err
	}
	if err := checkMD5(r, etag); err != nil {
		return err
	}
	w.Header().Set("ETag", strconv.Quote(etag))
	w.Header().Set("x-cos-hash-crc64ecma", strconv.FormatUint(body.crc, 10))
	w.WriteHeader(http.StatusOK)
	return nil
}

type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

func (f *Front) completeUpload(ctx context.Context, w http.ResponseWriter, r *http.Request, bucket, key, uploadID string) error {
	if r.ContentLength > maxXMLBody {
		return cosErr(http.StatusBadRequest, "EntityTooLarge", "the CompleteMultipartUpload document exceeds %d bytes", maxXMLBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxXMLBody+1))
	if err != nil {
		return cosErr(http.StatusBadRequest, "IncompleteBody", "read the request body: %v", err)
	}
	if len(body) > maxXMLBody {
		return cosErr(http.StatusBadRequest, "EntityTooLarge", "the CompleteMultipartUpload document exceeds %d bytes", maxXMLBody)
	}
	if v := r.Header.Get("Content-MD5"); v != "" {
		sum := md5.Sum(body)
		if err := checkMD5(r, hex.EncodeToString(sum[:])); err != nil {
			return err
		}
	}
	var req completeRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		return cosErr(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed: %v", err)
	}
	parts := make([]localemu.CompletedPart, 0, len(req.Parts))
	for _, p := range req.Parts {
		parts = append(parts, localemu.CompletedPart{N: p.PartNumber, ETag: p.ETag})
	}
	info, err := f.engine.CompleteMultipartUpload(ctx, bucket, key, uploadID, parts)
	if err != nil {
		return err
	}
	crc, err := f.objectCRC(ctx, bucket, key)
	if err != nil {
		return err
	}
	w.Header().Set("x-cos-hash-crc64ecma", strconv.FormatUint(crc, 10))
	return writeXML(w, completeResult{Location: r.Host + "/" + key, Bucket: bucket, Key: key, ETag: strconv.Quote(info.ETag)})
}

// objectCRC reads an object back for its CRC-64: a completed multipart
// object's checksum is that of all its bytes.
func (f *Front) objectCRC(ctx context.Context, bucket, key string) (uint64, error) {
	o, err := f.engine.GetObject(ctx, bucket, key)
	if err != nil {
		return 0, err
	}
	defer o.Body.Close()
	h := crc64.New(crcTable)
	if _, err := io.Copy(h, o.Body); err != nil {
		return 0, errors.Join(errors.New("read the completed object"), err)
	}
	return h.Sum64(), nil
}
