package lint

import (
	"github.com/datasurface/datasurface/model"
)

// captures checks how datastores are captured: a capture for every source
// store and none on a transformer's output, a postgres container and a
// credential of the team, a trigger that parses, the watermark column, and
// multi-dataset consistency only where the capture kind can give it.
func (l *linter) captures() {
	l.eachDatastore(func(ds *model.Datastore) {
		sp := storePath(ds)
		c := ds.Capture
		if ds.Transformer != nil {
			if c != nil {
				l.errorf("capture-on-output", c.Pos, sp, "datastore %q is the output of transformer %s, which the platform stores; remove its capture", ds.Name, ds.Transformer.Name)
			}
			return
		}
		if c == nil {
			l.errorf("capture-missing", ds.Pos, sp, "datastore %q does not say how it is captured; add capture: {kind: debezium_cdc | sql_snapshot | sql_watermark, container: ..., trigger: ...}", ds.Name)
			return
		}
		l.trigger(&c.Trigger, c.Pos, sp)
		if c.Consistency == model.MultiDataset && c.Kind == model.CaptureWatermark {
			l.errorf("capture-consistency", c.Pos, sp, "sql_watermark captures each dataset by its own watermark, so it cannot keep datasets consistent; use single_dataset, or sql_snapshot or debezium_cdc for multi_dataset")
		}
		if c.Kind == model.CaptureWatermark {
			if c.WatermarkColumn == "" {
				l.errorf("capture-watermark", c.Pos, sp, "sql_watermark capture needs watermark_column: the column whose growth marks changed rows")
			} else {
				for i := range ds.Datasets {
					d := &ds.Datasets[i]
					col := d.Column(c.WatermarkColumn)
					switch {
					case col == nil:
						l.errorf("capture-watermark", d.Pos, datasetPath(ds, d), "dataset %q has no watermark column %q; add it or capture the store another way", d.Name, c.WatermarkColumn)
					case !col.Type.Orderable():
						l.errorf("capture-watermark", col.Pos, datasetPath(ds, d)+"/column:"+col.Name, "watermark column %q is %s, which has no order; use a timestamp, date, integer or decimal column", col.Name, col.Type)
					}
				}
			}
		} else if c.WatermarkColumn != "" {
			l.warnf("capture-watermark", c.Pos, sp, "watermark_column is only used by sql_watermark capture; remove it")
		}
	})
}

// trigger checks a cron or external trigger.
func (l *linter) trigger(t *model.Trigger, pos model.Pos, path string) {
	switch {
	case t.Cron != "" && t.External:
		l.errorf("capture-trigger", refPos(model.Ref{Pos: t.Pos}, pos), path, "a trigger is either a cron schedule or external, not both")
	case t.Cron == "" && !t.External:
		l.errorf("capture-trigger", refPos(model.Ref{Pos: t.Pos}, pos), path, "say when this runs: trigger: {cron: \"*/5 * * * *\"} or trigger: {external: true}")
	case t.Cron != "":
		if err := model.ParseCron(t.Cron); err != nil {
			l.errorf("capture-cron", t.Pos, path, "%s", err)
		}
	}
}

// captureRefs resolves the capture's container and credential.
func (l *linter) captureRefs(ds *model.Datastore) {
	c := ds.Capture
	sp := storePath(ds)
	l.containerOfKind(ds.Team, c.Container, model.ContainerPostgres, c.Pos, sp)
	if !c.Credential.IsSet() {
		l.errorf("ref-credential", c.Pos, sp, "capture needs a credential to read the source; name one of team %s's credentials", ds.Team.Name)
		return
	}
	l.credentialRef(ds.Team, c.Credential, []string{"user_password", "certificate"}, c.Pos, sp)
}
