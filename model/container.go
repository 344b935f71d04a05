package model

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/datasurface/datasurface/model/internal/decode"
	"github.com/datasurface/datasurface/model/internal/yamlnode"
)

// Container is a data container: where data lives or flows through.
// Exactly one of its kind blocks is set.
type Container struct {
	Pos             Pos
	Name            string                    `yaml:"name,required" doc:"The container's identifier."`
	Documentation   string                    `yaml:"documentation" doc:"Notes on the container."`
	Location        Ref                       `yaml:"location" doc:"Where it runs: a location path vendor/location[/sublocation...]."`
	Postgres        *PostgresContainer        `yaml:"postgres" doc:"A PostgreSQL database."`
	ObjectStorage   *ObjectStorageContainer   `yaml:"object_storage" doc:"An S3-compatible object store."`
	Kafka           *KafkaContainer           `yaml:"kafka" doc:"A Kafka cluster."`
	KafkaConnect    *KafkaConnectContainer    `yaml:"kafka_connect" doc:"A Kafka Connect cluster."`
	PlatformManaged *PlatformManagedContainer `yaml:"platform_managed" doc:"Storage a data platform manages (e.g. a transformer's output)."`
}

// Container kinds, as Kind returns them.
const (
	ContainerPostgres        = "postgres"
	ContainerObjectStorage   = "object_storage"
	ContainerKafka           = "kafka"
	ContainerKafkaConnect    = "kafka_connect"
	ContainerPlatformManaged = "platform_managed"
)

// Kinds lists the kind blocks that are set; a valid container has exactly one.
func (c *Container) Kinds() []string {
	var k []string
	if c.Postgres != nil {
		k = append(k, ContainerPostgres)
	}
	if c.ObjectStorage != nil {
		k = append(k, ContainerObjectStorage)
	}
	if c.Kafka != nil {
		k = append(k, ContainerKafka)
	}
	if c.KafkaConnect != nil {
		k = append(k, ContainerKafkaConnect)
	}
	if c.PlatformManaged != nil {
		k = append(k, ContainerPlatformManaged)
	}
	return k
}

// Kind is the container's kind, or "" when not exactly one block is set.
func (c *Container) Kind() string {
	if k := c.Kinds(); len(k) == 1 {
		return k[0]
	}
	return ""
}

// PostgresContainer is a PostgreSQL database.
type PostgresContainer struct {
	Host     Text `yaml:"host,required" doc:"Host name (RFC 1123) or IP address literal (an IPv6 one without brackets)."`
	Port     Port `yaml:"port" doc:"Port, 5432 when omitted."`
	Database Text `yaml:"database,required" doc:"Database name: a PostgreSQL identifier (letters, digits and _, not starting with a digit, at most 63 characters)."`
}

// DefaultPostgresPort is the port of a postgres container that gives none.
const DefaultPostgresPort = 5432

// EffectivePort is the port, or DefaultPostgresPort when none is given.
func (p *PostgresContainer) EffectivePort() int {
	if !p.Port.IsSet() {
		return DefaultPostgresPort
	}
	return p.Port.Value
}

// ObjectStorageContainer is an S3-compatible object store.
type ObjectStorageContainer struct {
	Endpoint  Text `yaml:"endpoint" doc:"The S3 endpoint URL, http(s)://host[:port]; AWS's when omitted."`
	Region    Text `yaml:"region" doc:"The S3 region, e.g. eu-west-1."`
	PathStyle bool `yaml:"path_style" doc:"Use path-style addressing (MinIO and most S3-compatible servers)."`
}

// KafkaContainer is a Kafka cluster.
type KafkaContainer struct {
	Bootstrap string `yaml:"bootstrap,required" doc:"Bootstrap servers, host:port[,host:port...]."`
}

// KafkaConnectContainer is a Kafka Connect cluster.
type KafkaConnectContainer struct {
	URL   string `yaml:"url,required" doc:"The Kafka Connect REST URL."`
	Kafka Ref    `yaml:"kafka" doc:"The kafka container it writes to."`
}

// PlatformManagedContainer is storage that a data platform manages.
type PlatformManagedContainer struct {
	Platform Ref `yaml:"platform,required" doc:"The platform that manages the storage."`
}

// Text is a scalar string with the position it was written at, for values
// that are checked where they are written (host names, database names,
// endpoints) rather than where their object starts.
type Text struct {
	Value string
	Pos   Pos
}

// UnmarshalNode reads a text scalar.
func (t *Text) UnmarshalNode(d *decode.Decoder, n *yamlnode.Node) error {
	t.Pos = d.PosOf(n)
	if n.IsNull() {
		return nil
	}
	if n.Kind != yamlnode.ScalarNode {
		// A wrong type, as the decoder reports it for other text fields.
		d.Errors = append(d.Errors, &decode.Error{Pos: t.Pos, Code: "load-type", Msg: "expected a text value, found a " + n.Kind.String()})
		return nil
	}
	t.Value = n.Value
	return nil
}

// JSONSchema of a text value.
func (Text) JSONSchema() map[string]any { return map[string]any{"type": "string"} }

func (t Text) String() string { return t.Value }

// Port is a TCP port with the position it was written at; zero when omitted.
type Port struct {
	Value int
	Pos   Pos
}

// UnmarshalNode reads an integer; its range is checked by lint (value-port).
func (p *Port) UnmarshalNode(d *decode.Decoder, n *yamlnode.Node) error {
	if n.IsNull() {
		return nil // omitted: the default port
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yamlnode.ScalarNode || n.Style != yamlnode.Plain || err != nil {
		// A wrong type, as the decoder reports it for other integers.
		what := fmt.Sprintf("%q", n.Value)
		if n.Kind != yamlnode.ScalarNode {
			what = "a " + n.Kind.String()
		}
		d.Errors = append(d.Errors, &decode.Error{Pos: d.PosOf(n), Code: "load-type", Msg: "expected a port number (1 to 65535), found " + what})
		return nil
	}
	p.Value, p.Pos = v, d.PosOf(n)
	return nil
}

// IsSet reports whether a port was given.
func (p Port) IsSet() bool { return !p.Pos.IsZero() || p.Value != 0 }

// JSONSchema of a port.
func (Port) JSONSchema() map[string]any {
	return map[string]any{"type": "integer", "minimum": 1, "maximum": 65535}
}

// The checks below are what lint (value-* codes) and the generator apply to
// model text that reaches a connector config, a job spec or a DAG. Each
// returns nil or says what is wrong with the value.

// HasConfigReference reports whether s contains "${", the start of a Kafka
// Connect config provider reference. Kafka Connect resolves
// ${provider:[path:]key} anywhere in every connector config value
// (org.apache.kafka.common.config.ConfigTransformer.DEFAULT_PATTERN, KIP-297)
// and has no escape for it, so model text must never contain one.
func HasConfigReference(s string) bool { return strings.Contains(s, "${") }

// CheckHost accepts a host name of RFC 1123 labels (RFC 1123 §2.1: letters,
// digits and '-', 1 to 63 per label, not starting or ending with '-', at
// most 253 in all; the last label not all digits, so that it cannot pass
// for a dotted-decimal address) or an IPv4 or IPv6 address literal without
// a zone or brackets.
func CheckHost(s string) error {
	if s == "" {
		return fmt.Errorf("is empty")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("is an IPv6 address with a zone (%%%s); give the address without it", a.Zone())
		}
		return nil
	}
	if len(s) > 253 {
		return fmt.Errorf("has %d characters; a host name has at most 253", len(s))
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return fmt.Errorf("has an empty label (a leading, trailing or doubled '.')")
		case len(l) > 63:
			return fmt.Errorf("has a label of %d characters; a label has at most 63", len(l))
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Errorf("has a label %q that starts or ends with '-'", l)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '-' {
				return fmt.Errorf("has %q, which is not a letter, digit, '-' or '.'", rune(c))
			}
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return fmt.Errorf("ends in an all-numeric label but is not an IP address")
	}
	return nil
}

// HostInURL is a host as it goes into a URL or a host:port: an IPv6 literal
// in brackets (RFC 3986 §3.2.2), anything else as it is.
func HostInURL(host string) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		return "[" + host + "]"
	}
	return host
}

// MaxIdentifierLength is PostgreSQL's identifier limit: NAMEDATALEN-1 bytes
// (PostgreSQL documentation, 4.1.1 Identifiers and Key Words).
const MaxIdentifierLength = 63

// CheckPostgresIdentifier accepts an unquoted PostgreSQL identifier: a letter
// or '_', then letters, digits or '_', at most 63 bytes (PostgreSQL
// documentation 4.1.1; ASCII only, and without the '$' PostgreSQL also
// allows, which the SQL standard does not). Such a name needs no quoting in
// SQL, and holds no ',' or regular-expression metacharacter, so it can go
// into Debezium's table.include.list, a comma-separated list of regular
// expressions (io.debezium.util.Strings.RegExSplitter).
func CheckPostgresIdentifier(s string) error {
	if s == "" {
		return fmt.Errorf("is empty")
	}
	if len(s) > MaxIdentifierLength {
		return fmt.Errorf("has %d characters; PostgreSQL identifiers have at most %d", len(s), MaxIdentifierLength)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9':
			if i == 0 {
				return fmt.Errorf("starts with a digit")
			}
		default:
			return fmt.Errorf("has %q", rune(c))
		}
	}
	return nil
}

// CheckPort accepts a TCP port, 1 to 65535.
func CheckPort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("%d is not a TCP port (1 to 65535)", p)
	}
	return nil
}

// CheckBucket applies Amazon S3's naming rules for general purpose buckets
// (Amazon S3 User Guide, "General purpose bucket naming rules"): 3 to 63
// characters of lower-case letters, digits, '.' and '-', beginning and
// ending with a letter or digit, no "..", not an IP address, none of the
// reserved prefixes and suffixes.
func CheckBucket(s string) error {
	if len(s) < 3 || len(s) > 63 {
		return fmt.Errorf("has %d characters; a bucket name has 3 to 63", len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("has %q", rune(c))
		}
	}
	switch {
	case !isAlnum(s[0]) || !isAlnum(s[len(s)-1]):
		return fmt.Errorf("must begin and end with a letter or digit")
	case strings.Contains(s, ".."):
		return fmt.Errorf("has two adjacent periods")
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return fmt.Errorf("is formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(s, p) {
			return fmt.Errorf("starts with %q, which S3 reserves", p)
		}
	}
	for _, x := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3"} {
		if strings.HasSuffix(s, x) {
			return fmt.Errorf("ends with %q, which S3 reserves", x)
		}
	}
	return nil
}

// CheckKeyPrefix accepts an object key prefix of '/'-separated segments of
// letters, digits, '.', '_' and '-' (within the "safe characters" of the
// Amazon S3 User Guide, "Naming Amazon S3 objects"), no segment empty or
// "." or "..", at most 512 characters: it goes into the S3 sink's
// topics.dir, the job spec and s3:// URLs as it is.
func CheckKeyPrefix(s string) error {
	if len(s) > 512 {
		return fmt.Errorf("has %d characters; keep a prefix to at most 512", len(s))
	}
	for _, seg := range strings.Split(s, "/") {
		switch seg {
		case "":
			return fmt.Errorf("has an empty segment (a leading, trailing or doubled '/')")
		case ".", "..":
			return fmt.Errorf("has a %q segment", seg)
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				return fmt.Errorf("has %q", rune(c))
			}
		}
	}
	return nil
}

// CheckEndpoint accepts an S3 endpoint: http or https, a host that CheckHost
// accepts (an IPv6 one in brackets), an optional port, no user information,
// path, query or fragment.
func CheckEndpoint(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("is not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("is neither http:// nor https://")
	case u.Opaque != "" || u.User != nil:
		return fmt.Errorf("has user information")
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("has a path, query or fragment")
	}
	host := u.Hostname()
	if err := CheckHost(host); err != nil {
		return fmt.Errorf("has host %q, which %v", host, err)
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() != strings.HasPrefix(u.Host, "[") {
		if a.Is6() {
			return fmt.Errorf("has an IPv6 host without brackets")
		}
		return fmt.Errorf("has brackets around a host that is not an IPv6 address")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("has port %q, which is not a number", p)
		}
		if err := CheckPort(n); err != nil {
			return fmt.Errorf("has port %v", err)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("has an empty port")
	}
	return nil
}

// CheckRegion accepts a region code such as eu-west-1: lower-case letters and
// digits in '-'-separated words, at most 63 characters.
func CheckRegion(s string) error {
	if s == "" || len(s) > 63 {
		return fmt.Errorf("must have 1 to 63 characters")
	}
	for _, w := range strings.Split(s, "-") {
		if w == "" {
			return fmt.Errorf("has an empty word (a leading, trailing or doubled '-')")
		}
		for i := 0; i < len(w); i++ {
			if c := w[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return fmt.Errorf("has %q", rune(c))
			}
		}
	}
	return nil
}

// MaxTopicLength is the longest Kafka topic name
// (org.apache.kafka.common.internals.Topic.MAX_NAME_LENGTH).
const MaxTopicLength = 249

// CheckTopicName accepts what Kafka accepts as a topic name or part of one
// (Topic.LEGAL_CHARS [a-zA-Z0-9._-], which is also Debezium's
// CommonConnectorConfig.TOPIC_NAME_PATTERN for topic.prefix), at most
// MaxTopicLength characters.
func CheckTopicName(s string) error {
	if s == "" {
		return fmt.Errorf("is empty")
	}
	if len(s) > MaxTopicLength {
		return fmt.Errorf("has %d characters; Kafka topic names have at most %d", len(s), MaxTopicLength)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("has %q, which Kafka topic names cannot have (letters, digits, '.', '_' and '-')", rune(c))
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
