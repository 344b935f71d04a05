package model

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
	Host     string `yaml:"host,required" doc:"Host name."`
	Port     int    `yaml:"port" doc:"Port, 5432 when omitted."`
	Database string `yaml:"database,required" doc:"Database name."`
}

// DefaultPostgresPort is the port of a postgres container that gives none.
const DefaultPostgresPort = 5432

// EffectivePort is the port, or DefaultPostgresPort when none is given.
func (p *PostgresContainer) EffectivePort() int {
	if p.Port == 0 {
		return DefaultPostgresPort
	}
	return p.Port
}

// ObjectStorageContainer is an S3-compatible object store.
type ObjectStorageContainer struct {
	Endpoint  string `yaml:"endpoint" doc:"The S3 endpoint URL; AWS's when omitted."`
	Region    string `yaml:"region" doc:"The S3 region."`
	PathStyle bool   `yaml:"path_style" doc:"Use path-style addressing (MinIO and most S3-compatible servers)."`
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

// Credential names a secret without holding it.
type Credential struct {
	Pos           Pos
	Name          string         `yaml:"name,required" doc:"The credential's identifier; platforms map it to their secret store."`
	Kind          CredentialKind `yaml:"kind,required" doc:"What kind of secret it is."`
	Documentation string         `yaml:"documentation" doc:"Notes on the credential (never the secret)."`
}

// CredentialKind is the kind of a credential.
type CredentialKind string

func (CredentialKind) Values() []string {
	return []string{"user_password", "s3_keys", "token", "certificate", "kafka_sasl"}
}
