package main

import (
	"strings"
	"testing"
)

func TestParseDB(t *testing.T) {
	tests := []struct {
		db       string
		postgres bool
		wantErr  string
	}{
		{db: "vigil.db"},
		{db: "/var/lib/vigil/vigil.db"},
		{db: "./odd:name.db"},
		{db: "postgres://vigil:pw@db:5432/vigil", postgres: true},
		{db: "postgresql://db/vigil?sslmode=disable", postgres: true},
		{db: "host=db.internal dbname=vigil user=vigil", postgres: true},
		{db: " dbname=vigil", postgres: true},
		{db: "", wantErr: "--db is empty"},
		{db: "postgres://vigil:secret@db:notaport/vigil", wantErr: "--db: cannot parse"},
		{db: "Postgres://vigil:secret@db/vigil", wantErr: `did you mean "postgres://vigil:REDACTED@db/vigil"`},
		{db: "POSTGRESQL://db/vigil", wantErr: `did you mean "postgresql://db/vigil"`},
		{db: "mysql://root:secret@db/vigil", wantErr: `"mysql" databases are not supported`},
		{db: "mysql:root@tcp(db)/vigil", wantErr: `"mysql" databases are not supported`},
		{db: "sqlite:///var/lib/vigil/vigil.db", wantErr: `did you mean "/var/lib/vigil/vigil.db"`},
		{db: "file:vigil.db?mode=rwc", wantErr: `did you mean "vigil.db"`},
	}
	for _, tt := range tests {
		t.Run(tt.db, func(t *testing.T) {
			got, err := parseDB(tt.db)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseDB(%q) = %+v, %v; want an error containing %q", tt.db, got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDB(%q): %v", tt.db, err)
			}
			if got.postgres != tt.postgres || got.conn != tt.db {
				t.Errorf("parseDB(%q) = %+v, want postgres=%v", tt.db, got, tt.postgres)
			}
		})
	}
}
