"""Pure rendering of query results into pictures and documents: pick-list PDF, barcodes as SVG, charts."""
