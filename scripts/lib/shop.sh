# Sourced by scripts/demo.sh and scripts/migration-demo.sh: the shop database
# of examples/quickstart's shop_db datastore.
#
#   shop_create SQL   (re)creates database shop with customers (200 rows) and
#                     orders (1,000 rows); SQL is the caller's psql function,
#                     called as SQL DATABASE [psql arguments...]

shop_create() {
	local sql=$1
	"$sql" postgres -c "DROP DATABASE IF EXISTS shop WITH (FORCE)" -c "CREATE DATABASE shop"
	"$sql" shop <<'SQL'
CREATE TABLE customers (
  id bigint PRIMARY KEY, name varchar(200) NOT NULL, email varchar(200),
  country char(2), created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id bigint NOT NULL, status varchar(20) NOT NULL,
  total numeric(12,2) NOT NULL, ordered_at timestamptz NOT NULL DEFAULT now());
INSERT INTO customers (id, name, email, country)
  SELECT i, 'customer ' || i, CASE WHEN i % 7 = 0 THEN NULL ELSE 'c' || i || '@example.com' END,
         (ARRAY['GB','DE','FR','US','IE'])[1 + i % 5]
  FROM generate_series(1, 200) i;
INSERT INTO orders (id, customer_id, status, total)
  SELECT i, 1 + i % 200, 'placed', round((random() * 500)::numeric, 2) FROM generate_series(1, 1000) i;
SQL
}
