package commands

import (
	"context"
	"encoding/json"
	"io"

	"github.com/ucmsh/ucmsh/internal/sanitize"
	"github.com/ucmsh/ucmsh/publisher"
)

// Each report handler builds the model once and renders it as text, or as
// JSON (the same model, or the part of it the report covers) for scripts.

func (r *Runner) showReport(ctx context.Context, c *Call, text func(*publisher.Report) string, part func(*publisher.Report) any) error {
	m, err := r.Service.ReportDue(ctx) // the timers, then the report
	if err != nil {
		return err
	}
	if !c.JSON {
		_, err = io.WriteString(c.Term, text(m))
		return err
	}
	data, err := json.MarshalIndent(part(m), "", "  ")
	if err != nil {
		return err
	}
	data = sanitize.JSON(data)
	_, err = c.Term.Write(append(data, '\n'))
	return err
}

func whole(m *publisher.Report) any { return m }

func (r *Runner) showAll(ctx context.Context, c *Call) error {
	return r.showReport(ctx, c, RenderAll, whole)
}

func (r *Runner) showTechSupport(ctx context.Context, c *Call) error {
	return r.showReport(ctx, c, RenderTechSupport, whole)
}

// jsonHead is how the JSON of status and summary begins.
type jsonHead struct {
	SmartLicensing string                  `json:"smart_licensing"`
	Registration   publisher.Registration  `json:"registration"`
	Authorization  publisher.Authorization `json:"authorization"`
}

func head(m *publisher.Report) jsonHead {
	return jsonHead{m.SmartLicensing, m.Registration, m.Authorization}
}

func (r *Runner) showStatus(ctx context.Context, c *Call) error {
	return r.showReport(ctx, c, RenderStatus, func(m *publisher.Report) any {
		return struct {
			jsonHead
			Evaluation  publisher.EvalStatus  `json:"evaluation"`
			Transport   publisher.Transport   `json:"transport"`
			Reservation publisher.Reservation `json:"reservation"`
			ExportKeys  []string              `json:"export_features_authorized"`
		}{head(m), m.Evaluation, m.Transport, m.Reservation, m.ExportKeys}
	})
}

func (r *Runner) showSummary(ctx context.Context, c *Call) error {
	return r.showReport(ctx, c, RenderSummary, func(m *publisher.Report) any {
		return struct {
			jsonHead
			Usage publisher.Usage `json:"usage"`
		}{head(m), m.Usage}
	})
}

func (r *Runner) showUsage(ctx context.Context, c *Call) error {
	return r.showReport(ctx, c, RenderUsage, func(m *publisher.Report) any { return m.Usage })
}

func (r *Runner) showUDI(ctx context.Context, c *Call) error {
	return r.showReport(ctx, c, RenderUDI, func(m *publisher.Report) any {
		return struct {
			UDI string `json:"udi"`
		}{m.UDI}
	})
}

func (r *Runner) showTrace(ctx context.Context, c *Call) error {
	return r.showReport(ctx, c, RenderTrace, func(m *publisher.Report) any {
		return struct {
			Events []publisher.Event `json:"events"`
		}{m.Events}
	})
}
