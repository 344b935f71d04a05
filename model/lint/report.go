package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/datasurface/datasurface/model"
)

// Formats are the report formats Write understands.
var Formats = []string{"human", "json", "codequality", "junit"}

// FromLoadErrors turns the errors that kept a model from loading into problems.
func FromLoadErrors(errs []*model.LoadError) []Problem {
	ps := make([]Problem, len(errs))
	for i, e := range errs {
		ps[i] = Problem{Code: e.Code, Severity: Error, Message: e.Msg, Pos: e.Pos}
	}
	return ps
}

// Write renders problems in one of Formats. source names what was checked.
func Write(w io.Writer, format, source string, ps []Problem) error {
	switch format {
	case "human", "":
		return writeHuman(w, source, ps)
	case "json":
		return writeJSON(w, source, ps)
	case "codequality":
		return writeCodeQuality(w, ps)
	case "junit":
		return writeJUnit(w, source, ps)
	}
	return fmt.Errorf("unknown format %q; use one of %s", format, strings.Join(Formats, ", "))
}

func writeHuman(w io.Writer, source string, ps []Problem) error {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s: %s %s: %s", p.Pos, p.Severity, p.Code, p.Message)
		if p.Path != "" {
			fmt.Fprintf(&b, " (%s)", p.Path)
		}
		b.WriteByte('\n')
	}
	e, wn, in := Count(ps)
	fmt.Fprintf(&b, "%s: %d errors, %d warnings, %d infos\n", source, e, wn, in)
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonProblem struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	File     string   `json:"file"`
	Line     int32    `json:"line"`
	Column   int32    `json:"column"`
	Path     string   `json:"path,omitempty"`
}

type jsonReport struct {
	Source   string        `json:"source"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Infos    int           `json:"infos"`
	Problems []jsonProblem `json:"problems"`
}

func writeJSON(w io.Writer, source string, ps []Problem) error {
	r := jsonReport{Source: source, Problems: []jsonProblem{}}
	r.Errors, r.Warnings, r.Infos = Count(ps)
	for _, p := range ps {
		r.Problems = append(r.Problems, jsonProblem{p.Code, p.Severity, p.Message, p.Pos.File, p.Pos.Line, p.Pos.Col, p.Path})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// codeQualityIssue is one entry of a GitLab Code Quality report.
type codeQualityIssue struct {
	Description string              `json:"description"`
	CheckName   string              `json:"check_name"`
	Fingerprint string              `json:"fingerprint"`
	Severity    string              `json:"severity"`
	Location    codeQualityLocation `json:"location"`
}

type codeQualityLocation struct {
	Path  string `json:"path"`
	Lines struct {
		Begin int32 `json:"begin"`
	} `json:"lines"`
}

var codeQualitySeverity = map[Severity]string{Error: "critical", Warning: "minor", Info: "info"}

func writeCodeQuality(w io.Writer, ps []Problem) error {
	issues := []codeQualityIssue{}
	seen := map[string]int{}
	for _, p := range ps {
		// The fingerprint identifies an issue across pipelines, so it must not
		// depend on the line: code, object path and message do.
		sum := sha256.Sum256([]byte(p.Code + "\x00" + p.Pos.File + "\x00" + p.Path + "\x00" + p.Message))
		fp := hex.EncodeToString(sum[:16])
		if n := seen[fp]; n > 0 {
			sum = sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", fp, n)))
			fp = hex.EncodeToString(sum[:16])
		}
		seen[fp]++
		is := codeQualityIssue{Description: p.Message, CheckName: p.Code, Fingerprint: fp, Severity: codeQualitySeverity[p.Severity]}
		is.Location.Path = p.Pos.File
		is.Location.Lines.Begin = max(p.Pos.Line, 1)
		issues = append(issues, is)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(issues)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one test case per problem (errors fail, warnings and
// infos pass with their message as output), or one passing case when clean.
func writeJUnit(w io.Writer, source string, ps []Problem) error {
	s := junitSuite{Name: "datasurface " + source}
	for _, p := range ps {
		c := junitCase{Name: p.Code + " " + p.Pos.String(), Classname: p.Pos.File, File: p.Pos.File}
		text := p.Message
		if p.Path != "" {
			text += " (" + p.Path + ")"
		}
		if p.Severity == Error {
			c.Failure = &junitFailure{Message: p.Message, Type: p.Code, Text: text}
			s.Failures++
		} else {
			c.SystemOut = string(p.Severity) + ": " + text
		}
		s.Cases = append(s.Cases, c)
	}
	if len(s.Cases) == 0 {
		s.Cases = []junitCase{{Name: "model is valid", Classname: source}}
	}
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
