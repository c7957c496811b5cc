package cos

import (
	"net"
	"net/http"
	"regexp"
	"strings"
)

// DefaultAppID is the emulator's one appid (the account id COS appends to
// every bucket name): the example appid of COS's own docs.
const DefaultAppID = "1250000000"

// hostForm is a COS bucket's host, "<name>-<appid>.cos.<region>.myqcloud.com"
// (COS docs, "Regions and Access Endpoints"; cos-go-sdk-v5 NewBucketURL and
// its hostPrefix check; tencentcos.cn is the newer domain the SDK also
// accepts). The name is COS's bucket-name rule (COS docs, "Bucket Overview":
// lowercase letters, digits and hyphens, 1-50 characters, not starting or
// ending with a hyphen); the appid is digits; the region is COS's form
// (lowercase letters, digits, hyphens: ap-guangzhou, ap-beijing-1).
var hostForm = regexp.MustCompile(`^(` + namePattern + `)-([0-9]{1,20})\.cos\.(` + regionPattern + `)\.(?:myqcloud\.com|tencentcos\.cn)$`)

// namePattern is a bucket's own part, regionPattern a region.
const (
	namePattern   = `[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?`
	regionPattern = `[a-z0-9-]{1,40}`
)

var (
	nameRE   = regexp.MustCompile(`^` + namePattern + `$`)
	regionRE = regexp.MustCompile(`^` + regionPattern + `$`)
)

// ValidName reports whether name is a bucket's own part (without -appid),
// as SCF's CosBucketName takes it.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// ValidRegion reports whether r has a COS region's form.
func ValidRegion(r string) bool { return regionRE.MatchString(r) }

// Bucket is a bucket as its Host names it.
type Bucket struct {
	Name   string // the bucket's own part, as SCF's CosBucketName gives it
	AppID  string
	Region string
}

// Full is the bucket's COS name, "<name>-<appid>": the name the engine's
// object store keeps it under.
func (b Bucket) Full() string { return b.Name + "-" + b.AppID }

// Host is the bucket's COS host.
func (b Bucket) Host() string { return b.Full() + ".cos." + b.Region + ".myqcloud.com" }

// ParseHost reads a Host header (with or without a port) of the COS bucket
// form; ok is false for any other host.
func ParseHost(hostport string) (b Bucket, ok bool) {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	m := hostForm.FindStringSubmatch(host)
	if m == nil {
		return Bucket{}, false
	}
	return Bucket{Name: m[1], AppID: m[2], Region: m[3]}, true
}

// Signed reports whether a request carries a COS signature, in the
// Authorization header or (a presigned URL) in the query string.
func Signed(r *http.Request) bool {
	if strings.HasPrefix(strings.TrimSpace(r.Header.Get("Authorization")), "q-sign-algorithm=") {
		return true
	}
	return r.URL.Query().Get("q-sign-algorithm") != ""
}

// Admits reports whether the server's Host guard may answer r although its
// Host is not the emulator's own: a COS bucket host on a COS-signed request
// (see the package doc, Addressing).
func Admits(r *http.Request) bool {
	_, ok := ParseHost(r.Host)
	return ok && Signed(r)
}
