// Package value reads configuration settings given as plain Go values, so
// that the Lua loader and the check specs report a mistyped setting in the
// same words. A value is a string, float64, bool, []any (a list),
// map[string]any (a table of names), nil (unset) or Other (anything else).
package value

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Other stands for a value of no other type; it is its type's name, as
// shown in messages ("function", "tcp check").
type Other string

// TypeName names v's type as the configuration language does.
func TypeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any, map[string]any:
		return "table"
	case Other:
		return string(v)
	}
	return fmt.Sprintf("%T", v)
}

// Number formats n as the configuration language writes it.
func Number(n float64) string { return strconv.FormatFloat(n, 'g', -1, 64) }

// String reads a string.
func String(key string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string, got %s", key, TypeName(v))
	}
	return s, nil
}

// Line reads a string of one line: no control characters (NUL, newline,
// carriage return, ...; a tab is allowed), as names and protocol fields
// need.
func Line(key string, v any) (string, error) {
	s, err := String(key, v)
	if err != nil {
		return "", err
	}
	return s, CheckLine(key, s)
}

// CheckLine reports a control character in s, other than a tab.
func CheckLine(key, s string) error {
	for _, r := range s {
		if r != '\t' && (r < 0x20 || r == 0x7f) {
			return fmt.Errorf("%s %s has a control character (%U); write it on one line, without NUL or CR/LF", key, strconv.Quote(s), r)
		}
	}
	return nil
}

// Int reads an integer in lo..hi.
func Int(key string, v any, lo, hi int) (int, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, fmt.Errorf("%s must be an integer, got %s", key, TypeName(v))
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("%s must be an integer, got %s", key, Number(f))
	}
	if f < float64(lo) || f > float64(hi) {
		return 0, fmt.Errorf("%s %s out of range %d..%d", key, Number(f), lo, hi)
	}
	return int(f), nil
}

// Bool reads true or false.
func Bool(key string, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s must be true or false, got %s", key, TypeName(v))
	}
	return b, nil
}

// MaxDuration is the longest duration a setting can hold.
const MaxDuration = time.Duration(math.MaxInt64)

// Duration reads "2s", "1m30s", "500ms" or a number of seconds, at least min.
func Duration(key string, v any, min time.Duration) (time.Duration, error) {
	return DurationIn(key, v, min, MaxDuration)
}

// DurationIn reads "2s", "1m30s", "500ms" or a number of seconds, in lo..hi.
func DurationIn(key string, v any, lo, hi time.Duration) (time.Duration, error) {
	var d time.Duration
	switch v := v.(type) {
	case float64:
		ns := v * float64(time.Second)
		// (float64(math.MaxInt64) is 2^63, which does not fit)
		if math.IsNaN(ns) || ns < math.MinInt64 || ns >= math.MaxInt64 {
			return 0, fmt.Errorf("%s %s s out of range %s..%s", key, Number(v), durationText(lo), durationText(hi))
		}
		d = time.Duration(ns)
	case string:
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("%s: invalid duration %q (write e.g. \"2s\", \"500ms\", \"1m30s\")", key, v)
		}
	default:
		return 0, fmt.Errorf("%s must be a duration like \"2s\", got %s", key, TypeName(v))
	}
	switch {
	case d < lo && hi == MaxDuration:
		return 0, fmt.Errorf("%s %s is too short (at least %s)", key, d, lo)
	case d < lo || d > hi:
		return 0, fmt.Errorf("%s %s out of range %s..%s", key, d, durationText(lo), durationText(hi))
	}
	return d, nil
}

// Seconds reads a whole number of seconds in lo..hi, written as a number or
// as a duration string ("300s", "5m").
func Seconds(key string, v any, lo, hi int) (int, error) {
	d, err := DurationIn(key, v, time.Duration(lo)*time.Second, time.Duration(hi)*time.Second)
	if err != nil {
		return 0, err
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%s %s is not a whole number of seconds (%s..%s)", key, d, durationText(time.Duration(lo)*time.Second), durationText(time.Duration(hi)*time.Second))
	}
	return int(d / time.Second), nil
}

// durationText shows a bound, MaxDuration in whole seconds.
func durationText(d time.Duration) string {
	if d == MaxDuration {
		d = d.Truncate(time.Second)
	}
	return d.String()
}

// Argv reads a program and its arguments: a list of strings (run without a
// shell).
func Argv(key string, v any) ([]string, error) {
	if _, ok := v.([]any); !ok {
		return nil, fmt.Errorf("%s must be a list of strings (no shell), got %s", key, TypeName(v))
	}
	return Strings(key, v)
}

// Strings reads a list of strings.
func Strings(key string, v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s must be a list of strings, got %s", key, TypeName(v))
	}
	argv := make([]string, 0, len(l))
	for i, a := range l {
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d] must be a string, got %s", key, i+1, TypeName(a))
		}
		argv = append(argv, s)
	}
	return argv, nil
}
