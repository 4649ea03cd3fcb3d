// Package loggen writes realistic gateway access-log lines for tests and
// benchmarks: the same request rendered the way KrakenD, Kong or Envoy
// would log it, optionally inside a CRI or Docker container-log envelope.
// It is a test helper: it favours realism over speed and panics on an
// unknown format name.
package loggen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Formats lists the format names Line accepts (each may be prefixed with
// "cri+" or "docker+").
var Formats = []string{"krakend", "krakend-json", "kong", "envoy", "envoy-text", "json"}

// Request is what a line says about one request. Zero fields are filled
// with random realistic values by Fill; Line calls Fill itself.
type Request struct {
	// Time the request started; zero means a random time on 2024-05-02.
	Time time.Time
	// Method, Host, Client, UserAgent, RequestID and UpstreamHost
	// ("10.0.3.17:8080") are written as given; empty means random.
	Method string
	// Path without the query; Query without the '?' ("" = none).
	Path  string
	Query string
	Host  string
	// Status is the response status; 0 means random (mostly 200).
	Status int
	// Duration is the total time; Upstream the backend's share. Zero
	// means random; a negative Upstream means "no upstream" (written as
	// -1, null or "-" as the format does).
	Duration time.Duration
	Upstream time.Duration
	// BytesIn and BytesOut; zero means random.
	BytesIn      int64
	BytesOut     int64
	Client       string
	UserAgent    string
	RequestID    string
	UpstreamHost string
	// Route, Service and Consumer are Kong's/Envoy's names (Consumer is
	// Kong only); empty Route and Service are derived from the path.
	Route    string
	Service  string
	Consumer string
	// Flags are Envoy's response flags ("UF"); empty means none ("-").
	Flags string

	filled bool // Fill has run: empty fields stay empty
}

var (
	methods  = []string{"GET", "GET", "GET", "GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH"}
	statuses = []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201, 204, 304, 400, 401, 403, 404, 404, 429, 500, 502, 503, 504}
	agents   = []string{
		"curl/8.5.0",
		"okhttp/4.12.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"python-requests/2.31.0",
		"Go-http-client/1.1",
	}
	resources = []string{"users", "orders", "products", "carts", "payments", "invoices", "shipments"}
	consumers = []string{"mobile-app", "web-frontend", "partner-acme", ""}
)

// Fill returns req with every zero field replaced by a random realistic
// value drawn from rnd (Consumer may stay empty: an anonymous request).
// Call it first when a test needs to know the values Line will write; a
// filled Request is not filled again, so its empty fields stay empty.
func Fill(rnd *rand.Rand, req Request) Request {
	if req.filled {
		return req
	}
	req.filled = true
	if req.Time.IsZero() {
		base := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
		req.Time = base.Add(time.Duration(rnd.Int64N(int64(24 * time.Hour))))
	}
	if req.Method == "" {
		req.Method = methods[rnd.IntN(len(methods))]
	}
	res := resources[rnd.IntN(len(resources))]
	if req.Path == "" {
		switch rnd.IntN(4) {
		case 0:
			req.Path = "/v1/" + res
		case 1:
			req.Path = fmt.Sprintf("/v1/%s/%d", res, rnd.IntN(100000))
		case 2:
			req.Path = fmt.Sprintf("/v1/%s/%d/items/%d", res, rnd.IntN(100000), rnd.IntN(50))
		default:
			req.Path = fmt.Sprintf("/v2/%s/%08x-%04x-4%03x-%04x-%012x", res, rnd.Uint32(), rnd.IntN(0x10000), rnd.IntN(0x1000), 0x8000|rnd.IntN(0x4000), rnd.Int64N(1<<48))
		}
		if req.Query == "" && rnd.IntN(3) == 0 {
			req.Query = fmt.Sprintf("page=%d&per_page=%d&sort=-created_at&expand=true", rnd.IntN(20)+1, 25*(rnd.IntN(4)+1))
		}
	} else {
		if i := strings.Index(req.Path, "/v1/"); i == 0 {
			if seg := strings.SplitN(req.Path[4:], "/", 2)[0]; seg != "" {
				res = seg
			}
		}
	}
	if req.Host == "" {
		req.Host = "api.example.com"
	}
	if req.Status == 0 {
		req.Status = statuses[rnd.IntN(len(statuses))]
	}
	if req.Duration == 0 {
		// Roughly log-normal between ~0.3 ms and a few seconds.
		ms := 0.3 * float64(uint64(1)<<rnd.IntN(10)) * (1 + rnd.Float64())
		req.Duration = time.Duration(ms * float64(time.Millisecond))
	}
	if req.Upstream == 0 {
		if req.Status == 502 || req.Status == 503 && rnd.IntN(2) == 0 {
			req.Upstream = -1
		} else {
			req.Upstream = req.Duration * time.Duration(70+rnd.IntN(29)) / 100
		}
	}
	if req.BytesIn == 0 {
		req.BytesIn = int64(80 + rnd.IntN(400))
		if req.Method == "POST" || req.Method == "PUT" || req.Method == "PATCH" {
			req.BytesIn += int64(rnd.IntN(4000))
		}
	}
	if req.BytesOut == 0 {
		req.BytesOut = int64(60 + rnd.IntN(8000))
	}
	if req.Client == "" {
		if rnd.IntN(2) == 0 {
			req.Client = fmt.Sprintf("203.0.113.%d", 1+rnd.IntN(254))
		} else {
			req.Client = fmt.Sprintf("198.51.100.%d", 1+rnd.IntN(254))
		}
	}
	if req.UserAgent == "" {
		req.UserAgent = agents[rnd.IntN(len(agents))]
	}
	if req.RequestID == "" {
		req.RequestID = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", rnd.Uint32(), rnd.IntN(0x10000), rnd.IntN(0x1000), 0x8000|rnd.IntN(0x4000), rnd.Int64N(1<<48))
	}
	if req.UpstreamHost == "" {
		req.UpstreamHost = fmt.Sprintf("10.0.%d.%d:8080", rnd.IntN(8), 2+rnd.IntN(250))
	}
	if req.Service == "" {
		req.Service = res
	}
	if req.Route == "" {
		req.Route = strings.ToLower(req.Method) + "-" + res
	}
	if req.Consumer == "" {
		req.Consumer = consumers[rnd.IntN(len(consumers))]
	}
	return req
}

// URI returns the request target: Path, and "?"+Query when there is one.
func (r Request) URI() string {
	if r.Query == "" {
		return r.Path
	}
	return r.Path + "?" + r.Query
}

// JSONMapping is the generic-JSON mapping that reads the "json" format's
// lines, as the YAML a user would write (keys as in accesslog.Mapping).
const JSONMapping = `time: ts
time_format: rfc3339
method: http.method
path: http.path
query: http.query
host: http.host
status: http.status
duration: timing.total_ms
upstream: timing.upstream_ms
duration_unit: ms
bytes_in: http.request_bytes
bytes_out: http.response_bytes
client: client.ip
user_agent: http.user_agent
request_id: trace.request_id
upstream_host: upstream.addr
route: route
service: upstream.name
consumer: auth.subject
`

// Line returns one log line (without a newline) for req in format: one
// of Formats, optionally prefixed "cri+" or "docker+" for the container
// runtime's envelope. Zero fields of req are filled from rnd first. It
// panics on an unknown format.
func Line(format string, rnd *rand.Rand, req Request) []byte {
	req = Fill(rnd, req)
	if inner, ok := strings.CutPrefix(format, "cri+"); ok {
		l := Line(inner, rnd, req)
		ts := req.Time.Add(req.Duration).UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
		return append([]byte(ts+" stdout F "), l...)
	}
	if inner, ok := strings.CutPrefix(format, "docker+"); ok {
		l := Line(inner, rnd, req)
		ts := req.Time.Add(req.Duration).UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
		return fmt.Appendf(nil, `{"log":%s,"stream":"stdout","time":%q}`, jsonString(string(l)+"\n"), ts)
	}
	switch format {
	case "krakend":
		return krakend(req)
	case "krakend-json":
		return krakendJSON(req)
	case "kong":
		return kong(rnd, req)
	case "envoy":
		return envoy(req)
	case "envoy-text":
		return envoyText(req)
	case "json":
		return generic(req)
	}
	panic(fmt.Sprintf("loggen: unknown format %q, want one of %s", format, strings.Join(Formats, ", ")))
}

// krakend writes gin's default logger line exactly as gin v1.10 does
// (colours off). gin stamps the line when the response is done.
func krakend(r Request) []byte {
	lat := r.Duration
	if lat > time.Minute {
		lat = lat.Truncate(time.Second)
	}
	return fmt.Appendf(nil, "[GIN] %v |%s %3d %s| %13v | %15s |%s %-7s %s %#v",
		r.Time.Add(r.Duration).Format("2006/01/02 - 15:04:05"), "", r.Status, "", lat, r.Client, "", r.Method, "", r.URI())
}

func krakendJSON(r Request) []byte {
	// Seconds as an exact decimal ("0.003s", "1.234567891s").
	ns := r.Duration.Nanoseconds()
	lat := strconv.FormatInt(ns/1e9, 10)
	if frac := ns % 1e9; frac != 0 {
		lat += strings.TrimRight(fmt.Sprintf(".%09d", frac), "0")
	}
	lat += "s"
	return fmt.Appendf(nil, `{"prefix":"[KRAKEND]","time":%q,"status_code":%d,"latency":%q,"client_ip":%q,"method":%q,"path":%s}`,
		r.Time.UTC().Format(time.RFC3339), r.Status, lat, r.Client, r.Method, jsonString(r.URI()))
}

func ms(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return d.Milliseconds()
}

func kong(rnd *rand.Rand, r Request) []byte {
	var b strings.Builder
	total := ms(r.Duration)
	proxy := ms(r.Upstream)
	kongMS := total
	if proxy >= 0 {
		kongMS = total - proxy
	}
	ip, port, _ := strings.Cut(r.UpstreamHost, ":")
	if port == "" {
		port = "80"
	}
	qs := "{}"
	if r.Query != "" {
		var parts []string
		for kv := range strings.SplitSeq(r.Query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			parts = append(parts, kongString(k)+":"+kongString(v))
		}
		qs = "{" + strings.Join(parts, ",") + "}"
	}
	fmt.Fprintf(&b, `{"request":{"id":%s,"method":%s,"uri":%s,"url":%s,"querystring":%s,"headers":{"host":%s,"user-agent":%s,"accept":"application/json","authorization":"REDACTED"},"size":%d,"tls":{"version":"TLSv1.3","cipher":"TLS_AES_256_GCM_SHA384"}},`,
		kongString(strings.ReplaceAll(r.RequestID, "-", "")), kongString(r.Method), kongString(r.URI()),
		kongString("https://"+r.Host+":8443"+r.URI()), qs, kongString(r.Host), kongString(r.UserAgent), r.BytesIn)
	fmt.Fprintf(&b, `"upstream_uri":%s,"upstream_status":"%d","response":{"status":%d,"size":%d,"headers":{"content-type":"application/json","x-kong-upstream-latency":"%d"}},`,
		kongString(r.URI()), r.Status, r.Status, r.BytesOut, proxy)
	fmt.Fprintf(&b, `"latencies":{"kong":%d,"proxy":%d,"request":%d,"receive":0},"tries":[{"ip":%s,"port":%s,"balancer_latency":0,"balancer_start":%d}],`,
		kongMS, proxy, total, kongString(ip), port, r.Time.UnixMilli())
	fmt.Fprintf(&b, `"route":{"id":"1a2b3c4d-0000-4000-8000-%012d","name":%s,"paths":[%s],"protocols":["http","https"],"strip_path":false},"service":{"id":"1a2b3c4d-0000-4000-8000-%012d","name":%s,"host":%s,"port":%s,"protocol":"http","path":"/"},`,
		rnd.IntN(1000), kongString(r.Route), kongString(r.Path), rnd.IntN(1000), kongString(r.Service), kongString(r.Service+".svc"), port)
	if r.Consumer != "" {
		fmt.Fprintf(&b, `"consumer":{"id":"1a2b3c4d-0000-4000-8000-000000000003","username":%s},`, kongString(r.Consumer))
	}
	fmt.Fprintf(&b, `"client_ip":%s,"started_at":%d,"source":"upstream","workspace":"0b1e8f4c-0000-4000-8000-000000000000"}`,
		kongString(r.Client), r.Time.UnixMilli())
	return []byte(b.String())
}

func envoyUST(r Request) string {
	if r.Upstream < 0 {
		return "null"
	}
	return strconv.Quote(strconv.FormatInt(ms(r.Upstream), 10))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func envoy(r Request) []byte {
	flags := dash(r.Flags)
	return fmt.Appendf(nil, `{"start_time":%q,"method":%s,"path":%s,"protocol":"HTTP/1.1","response_code":%d,"response_flags":%q,"response_code_details":"via_upstream","bytes_received":%d,"bytes_sent":%d,"duration":%d,"upstream_service_time":%s,"x_forwarded_for":%s,"user_agent":%s,"request_id":%s,"authority":%s,"upstream_host":%s,"upstream_cluster":%s,"route_name":%s}`,
		r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), jsonString(r.Method), jsonString(r.URI()), r.Status, flags,
		r.BytesIn, r.BytesOut, ms(r.Duration), envoyUST(r), jsonString(r.Client), jsonString(r.UserAgent),
		jsonString(r.RequestID), jsonString(r.Host), jsonString(r.UpstreamHost), jsonString(r.Service), jsonString(r.Route))
}

func envoyText(r Request) []byte {
	ust := "-"
	if r.Upstream >= 0 {
		ust = strconv.FormatInt(ms(r.Upstream), 10)
	}
	return fmt.Appendf(nil, `[%s] "%s %s HTTP/1.1" %d %s %d %d %d %s "%s" "%s" "%s" "%s" "%s"`,
		r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), r.Method, r.URI(), r.Status, dash(r.Flags),
		r.BytesIn, r.BytesOut, ms(r.Duration), ust, dash(r.Client), dash(r.UserAgent), dash(r.RequestID),
		dash(r.Host), dash(r.UpstreamHost))
}

func generic(r Request) []byte {
	up := "null"
	if r.Upstream >= 0 {
		up = strconv.FormatFloat(float64(r.Upstream.Microseconds())/1000, 'f', -1, 64)
	}
	return fmt.Appendf(nil, `{"ts":%q,"level":"info","msg":"request","http":{"method":%s,"path":%s,"query":%s,"host":%s,"status":%d,"request_bytes":%d,"response_bytes":%d,"user_agent":%s},"timing":{"total_ms":%s,"upstream_ms":%s},"client":{"ip":%s},"trace":{"request_id":%s},"upstream":{"name":%s,"addr":%s},"route":%s,"auth":{"subject":%s}}`,
		r.Time.UTC().Format(time.RFC3339Nano), jsonString(r.Method), jsonString(r.Path), jsonString(r.Query),
		jsonString(r.Host), r.Status, r.BytesIn, r.BytesOut, jsonString(r.UserAgent),
		strconv.FormatFloat(float64(r.Duration.Microseconds())/1000, 'f', -1, 64), up, jsonString(r.Client),
		jsonString(r.RequestID), jsonString(r.Service), jsonString(r.UpstreamHost), jsonString(r.Route), jsonString(r.Consumer))
}

// jsonString quotes s as Envoy and most loggers do (no HTML escaping).
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// kongString quotes s as Kong's lua-cjson does: it also escapes '/'.
func kongString(s string) string {
	return strings.ReplaceAll(jsonString(s), "/", `\/`)
}
