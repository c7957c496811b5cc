package cos

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/asyncfn/asyncfn/localemu"
)

// Error is a COS error answer: the HTTP status and the <Error> document
// (COS API docs, "Error Codes", https://cloud.tencent.com/document/product/436/7730,
// whose table gives each code's status).
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func cosErr(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

// errorDoc is COS's error body.
type errorDoc struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
	TraceID   string   `xml:"TraceId"`
}

// writeError answers e in COS's shape; a HEAD answer has no body, as COS's.
func writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	id := w.Header().Get("x-cos-request-id")
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-cos-trace-id", id)
	w.WriteHeader(e.Status)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(errorDoc{Code: e.Code, Message: e.Message, Resource: r.Host + r.URL.Path, RequestID: id, TraceID: id})
}

// objectError maps an engine object-store error onto COS's codes.
func objectError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, localemu.ErrNoSuchBucket):
		return cosErr(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
	case errors.Is(err, localemu.ErrNoSuchKey):
		return cosErr(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	case errors.Is(err, localemu.ErrNoSuchUpload):
		return cosErr(http.StatusNotFound, "NoSuchUpload", "The specified multipart upload does not exist.")
	case errors.Is(err, localemu.ErrBucketExists):
		return cosErr(http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available.")
	case errors.Is(err, localemu.ErrBucketNotEmpty):
		return cosErr(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.")
	case errors.Is(err, localemu.ErrInvalidBucketName):
		return cosErr(http.StatusBadRequest, "InvalidBucketName", "%v", err)
	case errors.Is(err, localemu.ErrInvalidKey):
		return cosErr(http.StatusBadRequest, "InvalidArgument", "%v", err)
	case errors.Is(err, localemu.ErrInvalidPartOrder):
		return cosErr(http.StatusBadRequest, "InvalidPartOrder", "%v", err)
	case errors.Is(err, localemu.ErrInvalidPart):
		return cosErr(http.StatusBadRequest, "InvalidPart", "%v", err)
	case errors.Is(err, localemu.ErrEntityTooSmall):
		return cosErr(http.StatusBadRequest, "EntityTooSmall", "%v", err)
	case errors.Is(err, localemu.ErrEntityTooLarge):
		return cosErr(http.StatusBadRequest, "EntityTooLarge", "%v", err)
	case errors.Is(err, localemu.ErrIncompleteBody):
		return cosErr(http.StatusBadRequest, "IncompleteBody", "%v", err)
	}
	return cosErr(http.StatusInternalServerError, "InternalError", "%v", err)
}
