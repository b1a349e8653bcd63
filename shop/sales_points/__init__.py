"""Sales points: the provincial OCOP centre and the introduction-and-sales points, their managers and
the products each point carries."""
