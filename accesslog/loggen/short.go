package loggen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The short lines are the 300–400 byte JSON lines the sidecar's and the
// shipper's throughput targets are stated for: an API gateway's lines with
// only the usual fields and an API client's short user agent.

// ShortAgents are the user agents of the short lines: API clients, whose
// agents are short, rather than browsers.
var ShortAgents = []string{"curl/8.5.0", "okhttp/4.12.0", "python-requests/2.31.0", "Go-http-client/1.1", "axios/1.6.8", "Dart/3.3 (dart:io)"}

// ShortEnvoy renders r (filled, see Fill) as an Envoy access logger with
// this json_format would (14 keys, in the config's order):
//
//	start_time, method, path, response_code, response_flags,
//	bytes_received, bytes_sent, duration, upstream_service_time (string,
//	or null without an upstream), x_forwarded_for, user_agent,
//	request_id, authority, upstream_host
//
// with a short API-client user agent drawn from rnd and a one-parameter
// query: 300–400 bytes.
func ShortEnvoy(rnd *rand.Rand, r Request) []byte {
	ust := "null"
	if r.Upstream >= 0 {
		ust = fmt.Sprintf("%q", fmt.Sprint(r.Upstream.Milliseconds()))
	}
	return fmt.Appendf(nil, `{"start_time":%q,"method":%q,"path":%q,"response_code":%d,"response_flags":"-","bytes_received":%d,"bytes_sent":%d,"duration":%d,"upstream_service_time":%s,"x_forwarded_for":%q,"user_agent":%q,"request_id":%q,"authority":%q,"upstream_host":%q}`,
		r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), r.Method, shortURI(r), r.Status, r.BytesIn, r.BytesOut,
		r.Duration.Milliseconds(), ust, r.Client, ShortAgents[rnd.IntN(len(ShortAgents))], r.RequestID, r.Host,
		r.UpstreamHost)
}

// shortURI is r's path with a one-parameter query on the requests that
// have one.
func shortURI(r Request) string {
	if r.Query == "" {
		return r.Path
	}
	return r.Path + "?page=" + fmt.Sprint(len(r.Query)%10+1)
}

// ShortKong renders r (filled, see Fill) as a Kong file-log line trimmed to
// the fields gatewatch reads plus the usual small ones (a
// custom_fields_by_lua / log-serializer setup that drops the other headers,
// TLS, the service and the route's details):
//
//	request{method, uri, size, headers{host, user-agent}},
//	response{status, size}, latencies{request, kong, proxy},
//	tries[{ip, port}], route{name}, consumer{username}
//	(when authenticated), client_ip, started_at
//
// with '/' escaped as `\/` as Kong's lua-cjson writes it: 300–400 bytes.
func ShortKong(r Request) []byte {
	esc := func(s string) string { return strings.ReplaceAll(fmt.Sprintf("%q", s), "/", `\/`) }
	total := r.Duration.Milliseconds()
	proxy := int64(-1)
	if r.Upstream >= 0 {
		proxy = r.Upstream.Milliseconds()
	}
	kong := total
	if proxy >= 0 {
		kong = total - proxy
	}
	ip, port, _ := strings.Cut(r.UpstreamHost, ":")
	consumer := ""
	if r.Consumer != "" {
		consumer = fmt.Sprintf(`"consumer":{"username":%q},`, r.Consumer)
	}
	return fmt.Appendf(nil, `{"request":{"method":%q,"uri":%s,"size":%d,"headers":{"host":%q,"user-agent":%s}},"response":{"status":%d,"size":%d},"latencies":{"request":%d,"kong":%d,"proxy":%d},"tries":[{"ip":%q,"port":%s}],"route":{"name":%q},%s"client_ip":%q,"started_at":%d}`,
		r.Method, esc(shortURI(r)), r.BytesIn, r.Host, esc(ShortAgents[len(r.RequestID)%len(ShortAgents)]), r.Status, r.BytesOut,
		total, kong, proxy, ip, port, r.Route, consumer, r.Client, r.Time.UnixMilli())
}
