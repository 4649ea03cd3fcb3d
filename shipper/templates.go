package shipper

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatewatch/gatewatch/config"
)

// Artifact is one generated file.
type Artifact struct {
	// Name is the file name; Path is the Elasticsearch or Kibana API path
	// the content is sent to ("" for the saved-objects file, which is
	// imported through Kibana's UI or its _import API).
	Name, Path string
	Content    []byte
}

// Templates returns what Elasticsearch and Kibana need before the first
// document arrives: the ILM policy, the composable index templates of the
// documents and of the dead-letter index, and a Kibana data view with
// saved searches as saved-objects NDJSON. It is a pure function of the
// configuration and the gateway's name.
func Templates(c *config.ShipperConfig, gateway string) ([]Artifact, error) {
	n := namesFor(c)
	policy, err := indent(ilmPolicy(c))
	if err != nil {
		return nil, err
	}
	tmpl, err := indent(indexTemplate(c, n))
	if err != nil {
		return nil, err
	}
	dlq, err := indent(dlqTemplate(c, n))
	if err != nil {
		return nil, err
	}
	dlqPol, err := indent(dlqPolicy(c))
	if err != nil {
		return nil, err
	}
	so, err := savedObjects(c, n, gateway)
	if err != nil {
		return nil, err
	}
	return []Artifact{
		{Name: "ilm-policy.json", Path: "/_ilm/policy/" + n.policy, Content: policy},
		{Name: "dlq-ilm-policy.json", Path: "/_ilm/policy/" + n.policy + "-dlq", Content: dlqPol},
		{Name: "index-template.json", Path: "/_index_template/" + n.template, Content: tmpl},
		{Name: "dlq-index-template.json", Path: "/_index_template/" + n.dlqTemplate, Content: dlq},
		{Name: "kibana-saved-objects.ndjson", Content: so},
	}, nil
}

// names are the names of the bootstrap objects.
type names struct {
	policy, template, dlqTemplate string
	pattern                       string // what the index template matches
	target                        string // what Kibana and queries read: alias or data stream
}

// Template priorities: above Elasticsearch's built-in logs-*-* (100).
const (
	templatePriority    = 200
	dlqTemplatePriority = 210
)

func namesFor(c *config.ShipperConfig) names {
	if c.Mode == config.ShipperModeDataStream {
		return names{
			policy: "gatewatch-" + c.DataStream, template: "gatewatch-" + c.DataStream,
			dlqTemplate: "gatewatch-" + c.DLQIndex, pattern: c.DataStream, target: c.DataStream,
		}
	}
	return names{
		policy: "gatewatch-" + c.Index.Prefix, template: "gatewatch-" + c.Index.Prefix,
		dlqTemplate: "gatewatch-" + c.DLQIndex, pattern: c.Index.Prefix + "-*", target: c.Index.Alias,
	}
}

// esDuration writes d in Elasticsearch time units (d, h, m, s).
func esDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

func ilmPolicy(c *config.ShipperConfig) any {
	phases := map[string]any{
		"delete": map[string]any{
			"min_age": esDuration(c.Retention.Std()),
			"actions": map[string]any{"delete": map[string]any{}},
		},
	}
	if c.Mode == config.ShipperModeDataStream {
		phases["hot"] = map[string]any{
			"actions": map[string]any{"rollover": map[string]any{
				"max_primary_shard_size": c.Rollover.MaxSize,
				"max_age":                esDuration(c.Rollover.MaxAge.Std()),
			}},
		}
	}
	return map[string]any{"policy": map[string]any{
		"_meta":  map[string]any{"managed_by": "gatewatch"},
		"phases": phases,
	}}
}

func kw() map[string]any          { return map[string]any{"type": "keyword", "ignore_above": 1024} }
func typ(t string) map[string]any { return map[string]any{"type": t} }
func obj(p map[string]any) map[string]any {
	return map[string]any{"properties": p}
}

// documentMappings are the mappings of access-log documents: keyword for
// what is filtered on, long for numbers, ip for addresses, date for
// @timestamp.
func documentMappings() map[string]any {
	return map[string]any{
		"dynamic_templates": []any{
			map[string]any{"strings_as_keyword": map[string]any{
				"match_mapping_type": "string",
				"mapping":            kw(),
			}},
		},
		"properties": map[string]any{
			"@timestamp": typ("date"),
			"message":    typ("text"),
			"http": obj(map[string]any{
				"request":  obj(map[string]any{"method": kw(), "id": kw(), "bytes": typ("long")}),
				"response": obj(map[string]any{"status_code": typ("long"), "bytes": typ("long")}),
			}),
			"url":         obj(map[string]any{"path": kw(), "query": kw(), "domain": kw()}),
			"event":       obj(map[string]any{"duration": typ("long"), "kind": kw(), "category": kw(), "dataset": kw()}),
			"client":      obj(map[string]any{"ip": typ("ip"), "address": kw()}),
			"source":      obj(map[string]any{"ip": typ("ip")}),
			"destination": obj(map[string]any{"address": kw()}),
			"user_agent":  obj(map[string]any{"original": kw()}),
			"labels":      typ("object"),
			"gatewatch": obj(map[string]any{
				"endpoint": kw(), "track": kw(), "gateway": kw(), "kind": kw(), "contract_hash": kw(),
				"version": kw(), "route": kw(), "service": kw(), "consumer": kw(), "response_flags": kw(),
				"upstream_duration": typ("long"), "overhead_duration": typ("long"), "target_index": kw(),
			}),
			"log":   obj(map[string]any{"file": obj(map[string]any{"path": kw()}), "offset": typ("long")}),
			"error": obj(map[string]any{"type": kw(), "message": typ("text"), "code": kw()}),
		},
	}
}

func indexTemplate(c *config.ShipperConfig, n names) any {
	tmpl := map[string]any{
		"settings": map[string]any{"index.lifecycle.name": n.policy},
		"mappings": documentMappings(),
	}
	t := map[string]any{
		"index_patterns": []string{n.pattern},
		"priority":       templatePriority,
		"template":       tmpl,
		"_meta":          map[string]any{"managed_by": "gatewatch", "description": "gatewatch access-log documents"},
	}
	if c.Mode == config.ShipperModeDataStream {
		t["data_stream"] = map[string]any{}
	} else {
		tmpl["aliases"] = map[string]any{c.Index.Alias: map[string]any{}}
	}
	return t
}

// dlqTemplate makes the dead-letter index a plain index (never a data
// stream, whatever else matches its name) with the same retention.
func dlqTemplate(c *config.ShipperConfig, n names) any {
	return map[string]any{
		"index_patterns": []string{c.DLQIndex},
		"priority":       dlqTemplatePriority,
		"template": map[string]any{
			"settings": map[string]any{"index.lifecycle.name": n.policy + "-dlq"},
			"mappings": documentMappings(),
		},
		"_meta": map[string]any{"managed_by": "gatewatch", "description": "gatewatch dead letters: lines Elasticsearch refused or gatewatch could not decode, raw, with the error"},
	}
}

// dlqPolicy deletes dead letters after the retention, without rollover.
func dlqPolicy(c *config.ShipperConfig) any {
	return map[string]any{"policy": map[string]any{
		"_meta": map[string]any{"managed_by": "gatewatch"},
		"phases": map[string]any{"delete": map[string]any{
			"min_age": esDuration(c.Retention.Std()),
			"actions": map[string]any{"delete": map[string]any{}},
		}},
	}}
}

// SavedSearchID is the id of the Kibana saved search of all the access
// logs that Templates writes for c; the endpoint dashboard links to it.
func SavedSearchID(c *config.ShipperConfig) string {
	return "gatewatch-" + namesFor(c).target + "-all"
}

func savedObjects(c *config.ShipperConfig, n names, gateway string) ([]byte, error) {
	title := "Gateway access logs"
	if gateway != "" {
		title = gateway + " access logs"
	}
	viewID := "gatewatch-" + n.target
	dlqID := "gatewatch-" + c.DLQIndex
	search := func(id, name, query string, view string) map[string]any {
		src, _ := json.Marshal(map[string]any{
			"query":        map[string]any{"query": query, "language": "kuery"},
			"filter":       []any{},
			"indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
		})
		return map[string]any{
			"id": id, "type": "search", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "10.1.0",
			"attributes": map[string]any{
				"title":       name,
				"description": "Generated by gatewatch.",
				"columns":     []string{"gatewatch.endpoint", "http.request.method", "http.response.status_code", "event.duration", "client.ip", "url.path"},
				"sort":        [][]string{{"@timestamp", "desc"}},
				"grid":        map[string]any{},
				"hideChart":   false,
				"kibanaSavedObjectMeta": map[string]any{
					"searchSourceJSON": string(src),
				},
			},
			"references": []any{map[string]any{
				"id": view, "name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern",
			}},
		}
	}
	view := func(id, pattern, name string) map[string]any {
		return map[string]any{
			"id": id, "type": "index-pattern", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "8.0.0",
			"attributes": map[string]any{
				"title": pattern, "name": name, "timeFieldName": "@timestamp",
				"fieldFormatMap": `{"event.duration":{"id":"duration","params":{"inputFormat":"nanoseconds","outputFormat":"humanizePrecise","outputPrecision":2}}}`,
			},
			"references": []any{},
		}
	}
	objs := []any{
		view(viewID, n.target, title),
		view(dlqID, c.DLQIndex, title+" (dead letters)"),
		search(SavedSearchID(c), title, "", viewID),
		search(viewID+"-errors", title+": server errors", "http.response.status_code >= 500", viewID),
		search(dlqID+"-all", title+": dead letters", "", dlqID),
	}
	var b bytes.Buffer
	for _, o := range objs {
		line, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("encoding saved object: %w", err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

func indent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding template: %w", err)
	}
	return append(b, '\n'), nil
}
