-- Runs once when the PostgreSQL volume is created; the schema itself comes from `chargeflow migrate`.
ALTER DATABASE chargeflow SET timezone TO 'UTC';
