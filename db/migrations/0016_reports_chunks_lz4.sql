-- Report files are compressed with lz4 where the server has it: pglz took 4 s of the server's CPU to store a
-- 200 MB report, lz4 1 s, for about the same size (half the CSV's). Without lz4 the chunks are stored uncompressed.
do $$
begin
    alter table reports.report_chunks alter column data set compression lz4;
exception when feature_not_supported or invalid_parameter_value or undefined_object then
    alter table reports.report_chunks alter column data set storage external;
end $$;
