package model

import "fmt"

// MaxJSONDepth is how deeply JSON documents Baton accepts may nest. Stored
// objects are read back with SQLite's JSON functions, which refuse
// documents nested 1000 levels deep: a client document nested close to
// that would be stored and then break every query touching its row. Half
// of SQLite's limit leaves room for the envelope Baton stores it in.
const MaxJSONDepth = 500

// CheckJSONDepth reports an error when raw nests arrays and objects more
// than max levels deep. It scans bytes only (strings are skipped, escapes
// honoured), so it is cheap to run before decoding.
func CheckJSONDepth(raw []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range raw {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > max {
				return fmt.Errorf("JSON nested more than %d levels deep", max)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}
