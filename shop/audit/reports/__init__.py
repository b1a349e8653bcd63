"""The department's periodic report: built once as data, shown as a page and written as XLSX and PDF."""
