package shipper

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/sidecar"
)

// The sidecar starts the shipper beside its metrics reader when
// shipper.enabled is set; a binary that imports this package gets it.
func init() {
	sidecar.ShipperFactory = func(cfg *config.Config, c *contract.Contract, logger *slog.Logger, reg prometheus.Registerer) (sidecar.Runner, error) {
		s, err := New(cfg, c, logger, reg)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}
