// Serials of one batch or one GTIN ($scope) whose serial numbers fall in [$from, $to]. Numeric
// serial numbers compare as integers ($numeric), others as strings.
MATCH (s:Serial) WHERE s.batch_id = $scope
  AND (($numeric AND toInteger(s.serial_no) >= toInteger($from) AND toInteger(s.serial_no) <= toInteger($to))
       OR (NOT $numeric AND s.serial_no >= $from AND s.serial_no <= $to))
RETURN s.id AS id
UNION
MATCH (s:Serial) WHERE s.gtin = $scope
  AND (($numeric AND toInteger(s.serial_no) >= toInteger($from) AND toInteger(s.serial_no) <= toInteger($to))
       OR (NOT $numeric AND s.serial_no >= $from AND s.serial_no <= $to))
RETURN s.id AS id
