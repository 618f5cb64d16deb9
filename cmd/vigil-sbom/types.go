package main

import (
	"encoding/base64"
	"runtime/debug"
)

type debugModule = debug.Module

func base64Std(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
