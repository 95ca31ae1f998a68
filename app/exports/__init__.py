"""File exports of traceability data: recall reports (CSV, XLSX, PDF), FSMA 204 and EPCIS 2.0."""
