"""pgspec: schema-as-data for PostgreSQL (YAML spec -> verified DDL)."""
