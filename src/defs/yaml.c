/* placeholder: YAML definitions being written */
typedef int kpi_placeholder_yaml;
