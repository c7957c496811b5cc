// Package cos serves Tencent Cloud Object Storage's XML API (the part a
// deploy and a function's own code use: PUT/GET/HEAD/DELETE Object with
// Range, PUT/HEAD/GET/DELETE Bucket, and multipart uploads) over the
// engine's object store, with COS's own request signature (q-sign-algorithm=
// sha1, HMAC-SHA1) verified when the emulator has credentials, and COS's
// XML errors (<Error><Code>NoSuchKey</Code><Message>…</Message><Resource>…
// </Resource><RequestId>…</RequestId><TraceId>…</TraceId></Error>, COS API
// docs, "Error Codes", https://cloud.tencent.com/document/product/436/7730).
//
// # Addressing
//
// COS names a bucket only in the Host: every request goes to
// <name>-<appid>.cos.<region>.myqcloud.com (the cos-go-sdk-v5 builds it in
// NewBucketURL; the path is the object key). The SDK resolves each request's
// path against BaseURL.BucketURL with url.ResolveReference, so a path prefix
// on the BucketURL is dropped and cannot carry the bucket. The emulator
// therefore reads the bucket, the appid and the region from the Host header,
// exactly as COS does, and a client reaches it by one of:
//
//   - cos-go-sdk-v5: BucketURL http://127.0.0.1:PORT and Client.Host set to
//     the bucket's COS host (the SDK sends and signs that Host); this is what
//     adapters/tencent does against an emulator endpoint;
//   - any SDK (Node.js, Python, Go): the emulator as the HTTP proxy of the
//     plain-http COS URL (http.Transport.Proxy, the Node.js SDK's Proxy
//     option): the request line carries the COS URL and the Host is the
//     bucket's; this is what a function's own code does, from the
//     COS_ENDPOINT... variables the example reads (see example/README.md).
//
// The server's Host guard (package server) answers a foreign Host only when
// this package's Admits says so: a Host of exactly the COS bucket form, on a
// request that carries a COS signature (Authorization q-sign-algorithm=…, or
// the same fields in the query string of a presigned URL). A name under
// myqcloud.com cannot be rebound to the emulator by a web page, and a
// browser cannot send an Authorization header cross-origin unasked.
//
// One store serves every region and both clouds: the bucket
// "media-1250000000" is the same bucket whatever region its Host names, and
// the S3 front sees it too. The emulator has one appid (Options, default
// DefaultAppID); a bucket of another appid is AccessDenied, as another
// account's bucket is.
package cos
