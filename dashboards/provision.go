package dashboards

import (
	"bytes"
	"fmt"
	"path"

	"gopkg.in/yaml.v3"
)

// The Prometheus datasource the provisioning file creates. Its uid is
// fixed so that dashboards select it by default (their datasource
// variable's current value).
const (
	DatasourceUID  = "gatewatch-prometheus"
	DatasourceName = "Prometheus (gatewatch)"
)

// Where Grafana reads the provisioned dashboards from.
const DefaultDashboardsPath = "/var/lib/grafana/dashboards/gatewatch"

// Files of the generated dashboards and provisioning, relative to the
// output folder.
const (
	DashboardsDir            = "dashboards"
	DashboardsProvisionFile  = "provisioning/dashboards/gatewatch.yaml"
	DatasourceProvisionFile  = "provisioning/datasources/gatewatch.yaml"
	providerName             = "gatewatch"
	provisionAPIVersion      = 1
	provisionUpdateIntervalS = 30
)

// File is one file to write.
type File struct {
	// Name is the path relative to the output folder, with slashes.
	Name    string
	Content []byte
}

// Files returns the dashboards' JSON files (under DashboardsDir) and the
// provisioning YAML for them (read from DefaultDashboardsPath) and for
// the Prometheus datasource at grafana.prometheus_url.
func (s *Set) Files() ([]File, error) {
	var out []File
	for i := range s.Dashboards {
		d := &s.Dashboards[i]
		b, err := d.JSON()
		if err != nil {
			return nil, err
		}
		out = append(out, File{Name: path.Join(DashboardsDir, d.FileName()), Content: b})
	}
	type options struct {
		Path                      string `yaml:"path"`
		FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
	}
	type provider struct {
		Name                  string  `yaml:"name"`
		OrgID                 int     `yaml:"orgId"`
		Folder                string  `yaml:"folder"`
		FolderUID             string  `yaml:"folderUid"`
		Type                  string  `yaml:"type"`
		DisableDeletion       bool    `yaml:"disableDeletion"`
		UpdateIntervalSeconds int     `yaml:"updateIntervalSeconds"`
		AllowUIUpdates        bool    `yaml:"allowUiUpdates"`
		Options               options `yaml:"options"`
	}
	dash, err := marshalYAML(struct {
		APIVersion int        `yaml:"apiVersion"`
		Providers  []provider `yaml:"providers"`
	}{provisionAPIVersion, []provider{{
		Name: providerName, OrgID: 1, Folder: s.Folder, FolderUID: FolderUID(s.Folder), Type: "file",
		UpdateIntervalSeconds: provisionUpdateIntervalS,
		Options:               options{Path: DefaultDashboardsPath},
	}}})
	if err != nil {
		return nil, err
	}
	type datasource struct {
		Name      string         `yaml:"name"`
		Type      string         `yaml:"type"`
		UID       string         `yaml:"uid"`
		Access    string         `yaml:"access"`
		URL       string         `yaml:"url"`
		IsDefault bool           `yaml:"isDefault"`
		Editable  bool           `yaml:"editable"`
		JSONData  map[string]any `yaml:"jsonData"`
	}
	dsFile, err := marshalYAML(struct {
		APIVersion  int          `yaml:"apiVersion"`
		Datasources []datasource `yaml:"datasources"`
	}{provisionAPIVersion, []datasource{{
		Name: DatasourceName, Type: "prometheus", UID: DatasourceUID, Access: "proxy", URL: s.cfg.Grafana.PrometheusURL,
		JSONData: map[string]any{"httpMethod": "POST", "timeInterval": "15s"},
	}}})
	if err != nil {
		return nil, err
	}
	return append(out, File{Name: DashboardsProvisionFile, Content: dash}, File{Name: DatasourceProvisionFile, Content: dsFile}), nil
}

func marshalYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("writing provisioning YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing provisioning YAML: %w", err)
	}
	return b.Bytes(), nil
}
