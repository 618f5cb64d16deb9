package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/redact"
)

func (a *app) dbCmd() *cobra.Command {
	c := &cobra.Command{Use: "db", Short: "Manage the database", Args: cobra.NoArgs}
	c.AddCommand(&cobra.Command{
		Use:   "migrate",
		Short: "Create the database's tables, or bring them up to this version's schema",
		Long: `Apply the schema migrations built into this binary, in order, to the database
--db names (a SQLite file, created if missing, or a PostgreSQL URL). 'vigil run'
does the same at start; run this first to migrate a shared PostgreSQL once,
before rolling out several schedulers. Two processes migrating at once apply
each migration once. A database written by a newer vigil is refused.`,
		Example: `  vigil db migrate --db postgres://vigil:PASSWORD@db.internal:5432/vigil
  vigil db migrate --db /var/lib/vigil/vigil.db`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := a.loadConfig(nil)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(a.ctx, 60*time.Second)
			defer cancel()
			st, err := openStore(ctx, cfg.DB, storeOptions{create: true})
			if err != nil {
				return err
			}
			if err := st.Close(); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: schema up to date\n", redact.URL(cfg.DB))
			return nil
		},
	})
	c.AddCommand(a.dbCleanCmd())
	return c
}
